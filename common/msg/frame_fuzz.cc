// libFuzzer target: the frame decoder must refuse any byte stream with a
// Status, never crash, and never allocate beyond its limits; a frame it
// accepts must re-encode to the very bytes it came from.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/msg/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Small limits keep every allocation the decoder may make tiny.
  constexpr size_t kMaxInput = 1 << 16;
  if (size < 1 || size > kMaxInput) return 0;
  const nacre::msg::FrameLimits limits{1 << 16, 1 << 12};
  // The first byte picks the chunk size, so partial reads are fuzzed too.
  const size_t chunk = 1 + data[0] % 64;
  const char* p = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  nacre::msg::FrameDecoder d(limits);
  size_t pos = 0, frame_start = 0;
  while (pos < n) {
    size_t len = chunk < n - pos ? chunk : n - pos;
    auto used = d.Feed(p + pos, len);
    if (!used.ok()) return 0;
    pos += *used;
    if (d.has_frame()) {
      nacre::msg::Frame f = d.TakeFrame();
      std::string again = nacre::msg::EncodeFrame(nacre::msg::FrameMeta{f.msg.type, f.seq, f.ack}, f.msg);
      if (again != std::string(p + frame_start, pos - frame_start)) __builtin_trap();
      frame_start = pos;
    }
  }
  return 0;
}
