#include "rppg/ring_buffer.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "check.hpp"

namespace rppg {

std::size_t pixel_size(PixelType type) noexcept { return type == PixelType::UInt8 ? 1 : 4; }

FrameRingBuffer::FrameRingBuffer(std::size_t capacity, std::size_t height, std::size_t width,
                                 std::size_t channels, PixelType type)
    : capacity_(capacity), height_(height), width_(width), channels_(channels), type_(type),
      frame_bytes_(height * width * channels * pixel_size(type)) {
  if (capacity == 0 || height == 0 || width == 0 || channels == 0) {
    std::ostringstream msg;
    msg << "FrameRingBuffer: expected capacity, height, width and channels >= 1, got "
        << capacity << ", " << height << ", " << width << ", " << channels;
    throw std::invalid_argument(msg.str());
  }
  // frame_bytes_ above may have wrapped around; a wrapped size would make push() write past
  // the allocation.
  std::size_t total = capacity;
  for (std::size_t factor : {height, width, channels, pixel_size(type)}) {
    if (total > std::numeric_limits<std::size_t>::max() / factor) {
      std::ostringstream msg;
      msg << "FrameRingBuffer: " << capacity << " frames of " << height << " x " << width
          << " x " << channels << " overflow the address space";
      throw std::invalid_argument(msg.str());
    }
    total *= factor;
  }
  frames_.resize(capacity_ * frame_bytes_);
  timestamps_.resize(capacity_);
}

void FrameRingBuffer::check_timestamp_locked(double timestamp_s) const {
  detail::check_next_timestamp("timestamp_s", timestamp_s, size_ > 0,
                               size_ > 0 ? timestamps_[(next_ + capacity_ - 1) % capacity_] : 0.0,
                               "frame");
}

void FrameRingBuffer::check_timestamp(double timestamp_s) const {
  std::lock_guard<std::mutex> lock(mutex_);
  check_timestamp_locked(timestamp_s);
}

void FrameRingBuffer::push(const void* data, double timestamp_s) {
  std::lock_guard<std::mutex> lock(mutex_);
  check_timestamp_locked(timestamp_s);
  std::memcpy(frames_.data() + next_ * frame_bytes_, data, frame_bytes_);
  timestamps_[next_] = timestamp_s;
  next_ = (next_ + 1) % capacity_;
  if (size_ < capacity_) ++size_;
}

void FrameRingBuffer::push(const void* data, const std::array<std::ptrdiff_t, 3>& strides,
                           double timestamp_s) {
  const auto elem = static_cast<std::ptrdiff_t>(pixel_size(type_));
  const auto c = static_cast<std::ptrdiff_t>(channels_);
  if (strides[2] == elem && strides[1] == elem * c &&
      strides[0] == elem * c * static_cast<std::ptrdiff_t>(width_)) {
    push(data, timestamp_s);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  check_timestamp_locked(timestamp_s);
  auto* dst = frames_.data() + next_ * frame_bytes_;
  const auto* src = static_cast<const std::uint8_t*>(data);
  const auto row_bytes = static_cast<std::size_t>(elem * c) * width_;
  for (std::size_t y = 0; y < height_; ++y) {
    const auto* row = src + static_cast<std::ptrdiff_t>(y) * strides[0];
    auto* out = dst + y * row_bytes;
    if (strides[2] == elem && strides[1] == elem * c) {  // rows contiguous (e.g. a crop)
      std::memcpy(out, row, row_bytes);
      continue;
    }
    for (std::size_t x = 0; x < width_; ++x) {
      const auto* px = row + static_cast<std::ptrdiff_t>(x) * strides[1];
      for (std::ptrdiff_t ch = 0; ch < c; ++ch) {
        std::memcpy(out, px + ch * strides[2], static_cast<std::size_t>(elem));
        out += elem;
      }
    }
  }
  timestamps_[next_] = timestamp_s;
  next_ = (next_ + 1) % capacity_;
  if (size_ < capacity_) ++size_;
}

void FrameRingBuffer::window(std::size_t n, void* frames_out, double* timestamps_out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (n == 0 || n > size_) {
    std::ostringstream msg;
    msg << "window: expected 1 <= n <= " << size_ << " (frames held), got " << n;
    throw std::invalid_argument(msg.str());
  }
  auto* out = static_cast<std::uint8_t*>(frames_out);
  const std::size_t first = (next_ + capacity_ - n) % capacity_;
  // At most two contiguous runs: [first, end) and [0, rest).
  const std::size_t run1 = std::min(n, capacity_ - first);
  std::memcpy(out, frames_.data() + first * frame_bytes_, run1 * frame_bytes_);
  std::memcpy(timestamps_out, timestamps_.data() + first, run1 * sizeof(double));
  if (run1 < n) {
    std::memcpy(out + run1 * frame_bytes_, frames_.data(), (n - run1) * frame_bytes_);
    std::memcpy(timestamps_out + run1, timestamps_.data(), (n - run1) * sizeof(double));
  }
}

std::size_t FrameRingBuffer::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_;
}

double FrameRingBuffer::last_timestamp_s() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (size_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return timestamps_[(next_ + capacity_ - 1) % capacity_];
}

void FrameRingBuffer::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  next_ = 0;
  size_ = 0;
}

}  // namespace rppg
