#include "rppg/time_series.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "check.hpp"

namespace rppg {

TimeSeriesBuffer::TimeSeriesBuffer(std::size_t capacity, std::size_t channels)
    : capacity_(capacity), channels_(channels) {
  if (capacity == 0 || channels == 0) {
    std::ostringstream msg;
    msg << "TimeSeriesBuffer: expected capacity and channels >= 1, got " << capacity << ", "
        << channels;
    throw std::invalid_argument(msg.str());
  }
  if (capacity > std::numeric_limits<std::size_t>::max() / sizeof(double) / channels) {
    std::ostringstream msg;
    msg << "TimeSeriesBuffer: capacity " << capacity << " x channels " << channels
        << " overflows the address space";
    throw std::invalid_argument(msg.str());
  }
  values_.resize(capacity_ * channels_);
  timestamps_.resize(capacity_);
}

void TimeSeriesBuffer::check_values(const double* values, std::size_t n) const {
  for (std::size_t i = 0; i < n * channels_; ++i) {
    if (!std::isfinite(values[i])) {
      std::ostringstream msg;
      msg << "values: expected finite numbers, got " << values[i] << " at sample "
          << i / channels_ << ", channel " << i % channels_;
      throw std::invalid_argument(msg.str());
    }
  }
}

void TimeSeriesBuffer::check_timestamp(double timestamp_s) const {
  std::lock_guard<std::mutex> lock(mutex_);
  detail::check_next_timestamp("timestamp_s", timestamp_s, size_ > 0,
                               size_ > 0 ? timestamps_[(next_ + capacity_ - 1) % capacity_] : 0.0,
                               "sample");
}

void TimeSeriesBuffer::store_locked(const double* values, const double* timestamps_s,
                                    std::size_t n) {
  // Only the newest `capacity_` of the n samples survive; skip the rest rather than copy them
  // over each other.
  if (n > capacity_) {
    values += (n - capacity_) * channels_;
    timestamps_s += n - capacity_;
    next_ = (next_ + (n - capacity_)) % capacity_;
    n = capacity_;
  }
  const std::size_t run1 = std::min(n, capacity_ - next_);
  std::memcpy(values_.data() + next_ * channels_, values, run1 * channels_ * sizeof(double));
  std::memcpy(timestamps_.data() + next_, timestamps_s, run1 * sizeof(double));
  if (run1 < n) {
    std::memcpy(values_.data(), values + run1 * channels_,
                (n - run1) * channels_ * sizeof(double));
    std::memcpy(timestamps_.data(), timestamps_s + run1, (n - run1) * sizeof(double));
  }
  next_ = (next_ + n) % capacity_;
  size_ = std::min(capacity_, size_ + n);
}

void TimeSeriesBuffer::push(const double* values, double timestamp_s) {
  check_values(values, 1);
  std::lock_guard<std::mutex> lock(mutex_);
  detail::check_next_timestamp("timestamp_s", timestamp_s, size_ > 0,
                               size_ > 0 ? timestamps_[(next_ + capacity_ - 1) % capacity_] : 0.0,
                               "sample");
  store_locked(values, &timestamp_s, 1);
}

void TimeSeriesBuffer::push_many(const double* values, const double* timestamps_s,
                                 std::size_t n) {
  if (n == 0) return;
  check_values(values, n);
  for (std::size_t i = 1; i < n; ++i) {
    detail::check_next_timestamp("timestamps_s[" + std::to_string(i) + "]", timestamps_s[i],
                                 true, timestamps_s[i - 1], "sample");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // The first timestamp is checked against the buffer under the lock: another writer may have
  // pushed since the checks above.
  detail::check_next_timestamp("timestamps_s[0]", timestamps_s[0], size_ > 0,
                               size_ > 0 ? timestamps_[(next_ + capacity_ - 1) % capacity_] : 0.0,
                               "sample");
  store_locked(values, timestamps_s, n);
}

void TimeSeriesBuffer::copy_locked(std::size_t first_logical, std::size_t n, double* values_out,
                                   double* timestamps_out) const {
  if (n == 0) return;
  const std::size_t oldest = (next_ + capacity_ - size_) % capacity_;
  const std::size_t first = (oldest + first_logical) % capacity_;
  // At most two contiguous runs: [first, end) and [0, rest).
  const std::size_t run1 = std::min(n, capacity_ - first);
  std::memcpy(values_out, values_.data() + first * channels_, run1 * channels_ * sizeof(double));
  std::memcpy(timestamps_out, timestamps_.data() + first, run1 * sizeof(double));
  if (run1 < n) {
    std::memcpy(values_out + run1 * channels_, values_.data(),
                (n - run1) * channels_ * sizeof(double));
    std::memcpy(timestamps_out + run1, timestamps_.data(), (n - run1) * sizeof(double));
  }
}

void TimeSeriesBuffer::window(std::size_t n, double* values_out, double* timestamps_out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (n == 0 || n > size_) {
    std::ostringstream msg;
    msg << "window: expected 1 <= n <= " << size_ << " (samples held), got " << n;
    throw std::invalid_argument(msg.str());
  }
  copy_locked(size_ - n, n, values_out, timestamps_out);
}

std::size_t TimeSeriesBuffer::since(double start_s, std::size_t max_n, double* values_out,
                                    double* timestamps_out) const {
  if (std::isnan(start_s)) {
    throw std::invalid_argument("start_s: expected a number of seconds, got nan");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // Timestamps increase, so the first sample at or after start_s is found by bisection over the
  // logical (oldest-first) order.
  const std::size_t oldest = (next_ + capacity_ - size_) % capacity_;
  std::size_t lo = 0, hi = size_;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (timestamps_[(oldest + mid) % capacity_] < start_s) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const std::size_t count = size_ - lo;
  if (count <= max_n) copy_locked(lo, count, values_out, timestamps_out);
  return count;
}

std::size_t TimeSeriesBuffer::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_;
}

double TimeSeriesBuffer::last_timestamp_s() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (size_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return timestamps_[(next_ + capacity_ - 1) % capacity_];
}

void TimeSeriesBuffer::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  next_ = 0;
  size_ = 0;
}

}  // namespace rppg
