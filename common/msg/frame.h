// Frame: the unit the cluster messenger puts on the wire, and its decoder.
//
// Layout, every integer little-endian:
//
//   offset size field
//        0    4 magic        "NMSG"
//        4    1 version      kFrameVersion
//        5    1 flags        must be 0 (reserved; unknown bits are refused)
//        6    2 type         a proto::MsgType value
//        8    8 seq          per-connection sequence of data messages; 0 for control frames
//       16    8 ack          last seq the sender has dispatched from the receiver
//       24    4 header_len   bytes of protobuf header that follow
//       28    4 payload_len  bytes of raw payload after the header
//       32    4 header_crc   crc32c of bytes 0..31, continued over the protobuf header
//       36    4 payload_crc  crc32c of the payload
//       40      protobuf header, then payload
//
// header_crc covers the lengths, so a corrupted length is caught once the
// (bounded) protobuf header has arrived and before any payload buffer is
// allocated from it.
//
// Encoding never copies the payload: EncodeFixedHeader fills 40 bytes and
// the sender gathers {fixed header, protobuf header, payload} into one
// vectored write. Decoding is incremental and validates as it goes; every
// allocation it makes is bounded by FrameLimits, so hostile input costs at
// most one frame's worth of memory before it is refused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/msg/message.h"
#include "common/status.h"

namespace nacre::msg {

inline constexpr size_t kFrameFixedBytes = 40;
inline constexpr uint32_t kFrameMagic = 0x47534d4e;  // "NMSG" as little-endian bytes
inline constexpr uint8_t kFrameVersion = 1;

struct FrameLimits {
  size_t max_frame_bytes = 64u << 20;   // fixed header + protobuf header + payload
  size_t max_header_bytes = 64u << 10;  // protobuf header alone
};

// The per-frame fields that are not the message itself.
struct FrameMeta {
  uint16_t type = 0;
  uint64_t seq = 0;
  uint64_t ack = 0;
};

using FixedHeader = std::array<char, kFrameFixedBytes>;

// Fills the fixed header of a frame carrying `header` and a payload of
// `payload_len` bytes whose crc32c is `payload_crc` (computed once by the
// caller, so a resent message is not checksummed again).
void EncodeFixedHeader(const FrameMeta& meta, std::string_view header, size_t payload_len,
                       uint32_t payload_crc, FixedHeader* out);

// The whole frame as one string: for tests, the fuzzer and raw-socket tools.
// The messenger itself never calls this (it would copy the payload).
std::string EncodeFrame(const FrameMeta& meta, const Message& m);

// True for the types proto::MsgType declares; anything else on the wire is
// refused, so a peer speaking a newer protocol is noticed rather than
// misread.
bool IsKnownMsgType(uint16_t type);

// A decoded, fully validated frame.
struct Frame {
  uint64_t seq = 0;
  uint64_t ack = 0;
  Message msg;
};

// FrameDecoder: turns a byte stream into Frames, one at a time.
//
// Invariants: the decoder holds at most one partial frame; it allocates the
// protobuf header only after the fixed header passed its limits, and the
// payload only after the header crc matched. Once it fails it stays failed
// (every later call returns the same Status), because a byte stream that went
// wrong once cannot be resynchronized.
class FrameDecoder {
 public:
  explicit FrameDecoder(FrameLimits limits) : limits_(limits) {}

  // Consumes a prefix of [data, data+len) and returns how many bytes it used.
  // It stops right after a frame completes so the caller can take it before
  // feeding the rest; it never consumes past the end of the current frame.
  Result<size_t> Feed(const char* data, size_t len);

  bool has_frame() const { return stage_ == Stage::kDone; }
  // Precondition: has_frame(). Resets the decoder for the next frame.
  Frame TakeFrame();

  // While the payload is being received: the part of the payload buffer not
  // yet filled. The reader may receive straight into it (no staging copy)
  // and then call CommitPayload. Empty in every other stage.
  std::span<char> PayloadWindow();
  Status CommitPayload(size_t n);

  bool failed() const { return stage_ == Stage::kFailed; }
  // True between frames: nothing of a next frame has been consumed yet.
  bool idle() const { return stage_ == Stage::kFixed && fixed_have_ == 0; }

 private:
  enum class Stage { kFixed, kHeader, kPayload, kDone, kFailed };

  Status Fail(Status s);
  Status ParseFixed();
  Status FinishHeader();
  Status FinishPayload();

  FrameLimits limits_;
  Stage stage_ = Stage::kFixed;
  Status error_;

  FixedHeader fixed_{};
  size_t fixed_have_ = 0;
  // Parsed fixed fields of the frame in progress.
  uint16_t type_ = 0;
  uint64_t seq_ = 0;
  uint64_t ack_ = 0;
  uint32_t header_len_ = 0;
  uint32_t payload_len_ = 0;
  uint32_t header_crc_ = 0;
  uint32_t payload_crc_ = 0;

  std::string header_;
  Bytes payload_;                 // becomes the message's payload as is
  char* payload_buf_ = nullptr;   // payload_'s bytes, writable until the frame is taken
  size_t payload_have_ = 0;
  uint32_t payload_crc_run_ = 0;  // crc32c of payload_[0, payload_have_)
};

}  // namespace nacre::msg
