// Fixed-capacity buffer of multi-channel samples with timestamps (a T x C time series).
//
// The newest `capacity` samples of `channels` doubles are kept; pushing into a full buffer
// overwrites the oldest. Timestamps follow the frame ring's rules: finite and strictly
// increasing until clear(). One thread may push while others read: every public method takes the
// internal mutex, so a reader always sees whole samples with their own timestamps.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace rppg {

class TimeSeriesBuffer {
 public:
  /// Throws std::invalid_argument for a zero capacity or channel count, or a size that overflows.
  TimeSeriesBuffer(std::size_t capacity, std::size_t channels);

  /// Copies one sample (`channels()` finite doubles) in. `timestamp_s` must be finite and greater
  /// than the previous one. Throws std::invalid_argument otherwise (buffer unchanged).
  void push(const double* values, double timestamp_s);

  /// Copies `n` samples in (`values` row-major n x channels()). Every value and timestamp is
  /// checked before any is stored: on std::invalid_argument the buffer is unchanged. When n
  /// exceeds capacity() only the newest capacity() samples remain, as if pushed one by one.
  void push_many(const double* values, const double* timestamps_s, std::size_t n);

  /// Copies the newest `n` samples, oldest first, into `values_out` (n x channels()) and
  /// `timestamps_out` (n). Throws std::invalid_argument when n == 0 or n > size().
  void window(std::size_t n, double* values_out, double* timestamps_out) const;

  /// Counts the samples with timestamp >= `start_s` (all of them for -inf). If they number at
  /// most `max_n`, copies them oldest first into `values_out` / `timestamps_out`; otherwise copies
  /// nothing. Returns the count either way, so a caller that sized its output from an earlier
  /// count can retry when a writer got in between. Throws std::invalid_argument for a NaN start.
  std::size_t since(double start_s, std::size_t max_n, double* values_out,
                    double* timestamps_out) const;

  /// Throws std::invalid_argument if `timestamp_s` would be rejected by push().
  void check_timestamp(double timestamp_s) const;

  std::size_t size() const;
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t channels() const noexcept { return channels_; }
  /// Timestamp of the newest sample; NaN when empty.
  double last_timestamp_s() const;
  /// Drops every sample; the next push may carry any timestamp.
  void clear();

 private:
  void check_values(const double* values, std::size_t n) const;
  void store_locked(const double* values, const double* timestamps_s, std::size_t n);
  void copy_locked(std::size_t first_logical, std::size_t n, double* values_out,
                   double* timestamps_out) const;

  std::size_t capacity_, channels_;
  mutable std::mutex mutex_;
  std::vector<double> values_;
  std::vector<double> timestamps_;
  std::size_t next_ = 0;  // slot the next push writes
  std::size_t size_ = 0;
};

}  // namespace rppg
