#include "common/msg/frame.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "common/crc32c.h"
#include "proto/messenger.pb.h"

namespace nacre::msg {

namespace {

// Explicit byte order so the format is the same on any host.
template <typename T>
void PutLE(char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}

template <typename T>
T GetLE(const char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 4;
constexpr size_t kOffFlags = 5;
constexpr size_t kOffType = 6;
constexpr size_t kOffSeq = 8;
constexpr size_t kOffAck = 16;
constexpr size_t kOffHeaderLen = 24;
constexpr size_t kOffPayloadLen = 28;
constexpr size_t kOffHeaderCrc = 32;
constexpr size_t kOffPayloadCrc = 36;
static_assert(kOffPayloadCrc + 4 == kFrameFixedBytes);

}  // namespace

void EncodeFixedHeader(const FrameMeta& meta, std::string_view header, size_t payload_len,
                       uint32_t payload_crc, FixedHeader* out) {
  char* p = out->data();
  PutLE<uint32_t>(p + kOffMagic, kFrameMagic);
  PutLE<uint8_t>(p + kOffVersion, kFrameVersion);
  PutLE<uint8_t>(p + kOffFlags, 0);
  PutLE<uint16_t>(p + kOffType, meta.type);
  PutLE<uint64_t>(p + kOffSeq, meta.seq);
  PutLE<uint64_t>(p + kOffAck, meta.ack);
  PutLE<uint32_t>(p + kOffHeaderLen, static_cast<uint32_t>(header.size()));
  PutLE<uint32_t>(p + kOffPayloadLen, static_cast<uint32_t>(payload_len));
  uint32_t hcrc = Crc32c(p, kOffHeaderCrc);
  hcrc = Crc32c(header, hcrc);
  PutLE<uint32_t>(p + kOffHeaderCrc, hcrc);
  PutLE<uint32_t>(p + kOffPayloadCrc, payload_crc);
}

std::string EncodeFrame(const FrameMeta& meta, const Message& m) {
  FixedHeader fixed;
  EncodeFixedHeader(meta, m.header, m.payload.size(), Crc32c(m.payload.view()), &fixed);
  std::string out;
  out.reserve(kFrameFixedBytes + m.wire_size());
  out.append(fixed.data(), fixed.size());
  out.append(m.header);
  out.append(m.payload.view());
  return out;
}

bool IsKnownMsgType(uint16_t type) {
  return type != proto::MSG_NONE && proto::MsgType_IsValid(static_cast<int>(type));
}

Status FrameDecoder::Fail(Status s) {
  stage_ = Stage::kFailed;
  error_ = s;
  header_.clear();
  header_.shrink_to_fit();
  payload_ = Bytes();
  payload_buf_ = nullptr;
  return s;
}

Status FrameDecoder::ParseFixed() {
  const char* p = fixed_.data();
  uint32_t magic = GetLE<uint32_t>(p + kOffMagic);
  if (magic != kFrameMagic) return Corruption("bad frame magic");
  uint8_t version = GetLE<uint8_t>(p + kOffVersion);
  if (version != kFrameVersion) return {Code::kNotSupported, "unsupported frame version " + std::to_string(version)};
  uint8_t flags = GetLE<uint8_t>(p + kOffFlags);
  if (flags != 0) return {Code::kNotSupported, "unknown frame flags " + std::to_string(flags)};
  type_ = GetLE<uint16_t>(p + kOffType);
  seq_ = GetLE<uint64_t>(p + kOffSeq);
  ack_ = GetLE<uint64_t>(p + kOffAck);
  header_len_ = GetLE<uint32_t>(p + kOffHeaderLen);
  payload_len_ = GetLE<uint32_t>(p + kOffPayloadLen);
  header_crc_ = GetLE<uint32_t>(p + kOffHeaderCrc);
  payload_crc_ = GetLE<uint32_t>(p + kOffPayloadCrc);
  if (header_len_ > limits_.max_header_bytes)
    return TooBig("frame header of " + std::to_string(header_len_) + " bytes over limit " +
                  std::to_string(limits_.max_header_bytes));
  // 64-bit sum: two u32 lengths cannot overflow it.
  uint64_t total = uint64_t{kFrameFixedBytes} + header_len_ + payload_len_;
  if (total > limits_.max_frame_bytes)
    return TooBig("frame of " + std::to_string(total) + " bytes over limit " + std::to_string(limits_.max_frame_bytes));
  if (!IsKnownMsgType(type_)) return {Code::kNotSupported, "unknown message type " + std::to_string(type_)};
  header_.clear();
  header_.reserve(header_len_);
  stage_ = Stage::kHeader;
  return header_len_ == 0 ? FinishHeader() : Status::OK();
}

Status FrameDecoder::FinishHeader() {
  uint32_t crc = Crc32c(fixed_.data(), kOffHeaderCrc);
  crc = Crc32c(header_, crc);
  if (crc != header_crc_) return Corruption("frame header crc mismatch");
  payload_have_ = 0;
  payload_crc_run_ = 0;
  if (payload_len_ == 0) {
    payload_ = Bytes();
    payload_buf_ = nullptr;
    return FinishPayload();
  }
  // The one allocation of the payload: it becomes the message's Bytes as is.
  // (Not zero-filled: the socket overwrites every byte before it is read.)
  payload_ = Bytes::Uninitialized(payload_len_, &payload_buf_);
  stage_ = Stage::kPayload;
  return Status::OK();
}

Status FrameDecoder::FinishPayload() {
  if (payload_crc_run_ != payload_crc_) return Corruption("frame payload crc mismatch");
  stage_ = Stage::kDone;
  return Status::OK();
}

Result<size_t> FrameDecoder::Feed(const char* data, size_t len) {
  size_t used = 0;
  while (used < len) {
    switch (stage_) {
      case Stage::kFailed:
        return error_;
      case Stage::kDone:
        return used;
      case Stage::kFixed: {
        size_t n = std::min(len - used, kFrameFixedBytes - fixed_have_);
        std::memcpy(fixed_.data() + fixed_have_, data + used, n);
        fixed_have_ += n;
        used += n;
        if (fixed_have_ == kFrameFixedBytes) {
          Status s = ParseFixed();
          if (!s.ok()) return Fail(s);
        }
        break;
      }
      case Stage::kHeader: {
        size_t n = std::min(len - used, header_len_ - header_.size());
        header_.append(data + used, n);
        used += n;
        if (header_.size() == header_len_) {
          Status s = FinishHeader();
          if (!s.ok()) return Fail(s);
        }
        break;
      }
      case Stage::kPayload: {
        size_t n = std::min(len - used, payload_len_ - payload_have_);
        std::memcpy(payload_buf_ + payload_have_, data + used, n);
        used += n;
        Status s = CommitPayload(n);  // fails the decoder itself on a bad crc
        if (!s.ok()) return s;
        break;
      }
    }
  }
  if (stage_ == Stage::kFailed) return error_;
  return used;
}

std::span<char> FrameDecoder::PayloadWindow() {
  if (stage_ != Stage::kPayload) return {};
  return {payload_buf_ + payload_have_, payload_len_ - payload_have_};
}

Status FrameDecoder::CommitPayload(size_t n) {
  if (stage_ == Stage::kFailed) return error_;
  if (stage_ != Stage::kPayload) return n == 0 ? Status::OK() : Fail(Invalid("payload commit outside payload stage"));
  if (n > payload_len_ - payload_have_) return Fail(Invalid("payload commit past the frame"));
  // Checksummed as it arrives, while the bytes are still in cache.
  payload_crc_run_ = Crc32c(payload_buf_ + payload_have_, n, payload_crc_run_);
  payload_have_ += n;
  if (payload_have_ == payload_len_) {
    Status s = FinishPayload();
    if (!s.ok()) return Fail(s);
  }
  return Status::OK();
}

Frame FrameDecoder::TakeFrame() {
  assert(stage_ == Stage::kDone);
  Frame f;
  f.seq = seq_;
  f.ack = ack_;
  f.msg.type = type_;
  f.msg.header = std::move(header_);
  if (payload_len_ > 0) f.msg.payload = std::move(payload_);
  header_ = std::string();
  payload_ = Bytes();
  payload_buf_ = nullptr;
  payload_have_ = 0;
  fixed_have_ = 0;
  stage_ = Stage::kFixed;
  return f;
}

}  // namespace nacre::msg
