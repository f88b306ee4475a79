// Fixed-capacity ring buffer of video frames with timestamps.
//
// The newest `capacity` frames of one shape (height, width, channels) are kept; pushing into a
// full buffer overwrites the oldest. One thread may push while others read: every public method
// takes the internal mutex, so a reader always sees whole frames with their own timestamps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rppg {

enum class PixelType : std::uint8_t { UInt8, Float32 };

/// Bytes of one element of `type`.
std::size_t pixel_size(PixelType type) noexcept;

class FrameRingBuffer {
 public:
  /// Throws std::invalid_argument for a zero capacity or dimension.
  FrameRingBuffer(std::size_t capacity, std::size_t height, std::size_t width,
                  std::size_t channels, PixelType type);

  /// Copies one frame in. `strides_bytes` are the byte steps along (height, width, channels) of
  /// `data` (any layout, e.g. a flipped or BGR->RGB view); `timestamp_s` must be finite and
  /// greater than the previous one. Throws std::invalid_argument otherwise (buffer unchanged).
  void push(const void* data, const std::array<std::ptrdiff_t, 3>& strides_bytes,
            double timestamp_s);

  /// Same, for a C-contiguous frame.
  void push(const void* data, double timestamp_s);

  /// Copies the newest `n` frames, oldest first, into `frames_out` (n * frame_bytes() bytes) and
  /// their timestamps into `timestamps_out` (n doubles). Throws std::invalid_argument when
  /// n == 0 or n > size().
  void window(std::size_t n, void* frames_out, double* timestamps_out) const;

  /// Throws std::invalid_argument if `timestamp_s` would be rejected by push().
  void check_timestamp(double timestamp_s) const;

  std::size_t size() const;
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t height() const noexcept { return height_; }
  std::size_t width() const noexcept { return width_; }
  std::size_t channels() const noexcept { return channels_; }
  PixelType pixel_type() const noexcept { return type_; }
  std::size_t frame_bytes() const noexcept { return frame_bytes_; }
  /// Timestamp of the newest frame; NaN when empty.
  double last_timestamp_s() const;
  /// Drops every frame; the next push may carry any timestamp.
  void clear();

 private:
  void check_timestamp_locked(double timestamp_s) const;

  std::size_t capacity_, height_, width_, channels_;
  PixelType type_;
  std::size_t frame_bytes_;
  mutable std::mutex mutex_;
  std::vector<std::uint8_t> frames_;
  std::vector<double> timestamps_;
  std::size_t next_ = 0;  // slot the next push writes
  std::size_t size_ = 0;
};

}  // namespace rppg
