// Frame encoding and the incremental decoder: round trips in any chunking,
// and every kind of bad input refused with a Status before it can cost
// unbounded memory.
#include <catch2/catch.hpp>

#include <random>

#include "common/crc32c.h"
#include "common/msg/frame.h"
#include "proto/messenger.pb.h"

namespace nacre::msg {
namespace {

Message Sample(size_t payload_len, uint16_t type = proto::MSG_TEST) {
  proto::TestMsg h;
  h.set_seq(7);
  h.set_payload_crc(123);
  std::string p(payload_len, '\0');
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<char>(i * 31 + 7);
  return Message::Make(type, h, Bytes(std::move(p)));
}

// Feeds `wire` in chunks of `chunk` bytes; returns the frames or the error.
Result<std::vector<Frame>> DecodeAll(std::string_view wire, size_t chunk, FrameLimits limits = {}) {
  FrameDecoder d(limits);
  std::vector<Frame> out;
  size_t pos = 0;
  while (pos < wire.size()) {
    size_t n = std::min(chunk, wire.size() - pos);
    size_t off = 0;
    while (off < n) {
      NACRE_ASSIGN_OR_RETURN(size_t used, d.Feed(wire.data() + pos + off, n - off));
      off += used;
      if (d.has_frame()) out.push_back(d.TakeFrame());
    }
    pos += n;
  }
  if (!d.idle()) return Invalid("trailing partial frame");
  return out;
}

void SetLE32(std::string* w, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*w)[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

TEST_CASE("frame: fixed header layout is little-endian and 40 bytes") {
  Message m = Sample(5);
  std::string w = EncodeFrame(FrameMeta{proto::MSG_TEST, 0x0102030405060708ull, 9}, m);
  REQUIRE(w.size() == kFrameFixedBytes + m.header.size() + 5);
  CHECK(w.substr(0, 4) == "NMSG");
  CHECK(w[4] == kFrameVersion);
  CHECK(w[5] == 0);
  CHECK(static_cast<uint8_t>(w[6]) == (proto::MSG_TEST & 0xff));
  CHECK(w[8] == 0x08);
  CHECK(w[15] == 0x01);
  CHECK(w[16] == 9);
}

TEST_CASE("frame: round trip in every chunking with several frames back to back") {
  std::string wire;
  std::vector<Message> sent;
  for (size_t len : {0u, 1u, 100u, 70000u, 3u}) {
    sent.push_back(Sample(len));
    wire += EncodeFrame(FrameMeta{proto::MSG_TEST, sent.size(), sent.size() - 1}, sent.back());
  }
  Message empty;
  empty.type = proto::MSG_KEEPALIVE;
  sent.push_back(empty);
  wire += EncodeFrame(FrameMeta{proto::MSG_KEEPALIVE, 0, 0}, empty);
  for (size_t chunk : {1ul, 7ul, 40ul, 41ul, 4096ul, wire.size()}) {
    auto frames = DecodeAll(wire, chunk);
    REQUIRE(frames.ok());
    REQUIRE(frames->size() == sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      CHECK((*frames)[i].msg.type == sent[i].type);
      CHECK((*frames)[i].msg.header == sent[i].header);
      CHECK((*frames)[i].msg.payload == sent[i].payload);
    }
    CHECK((*frames)[2].seq == 3);
    CHECK((*frames)[2].ack == 2);
  }
}

TEST_CASE("frame: the payload window receives a payload without staging") {
  Message m = Sample(100000);
  std::string w = EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, m);
  FrameDecoder d(FrameLimits{});
  size_t head = kFrameFixedBytes + m.header.size() + 10;
  auto used = d.Feed(w.data(), head);
  REQUIRE(used.ok());
  REQUIRE(*used == head);
  std::span<char> win = d.PayloadWindow();
  REQUIRE(win.size() == 100000 - 10);
  std::memcpy(win.data(), w.data() + head, win.size());
  REQUIRE(d.CommitPayload(win.size()).ok());
  REQUIRE(d.has_frame());
  CHECK(d.TakeFrame().msg.payload == m.payload);
  CHECK(d.PayloadWindow().empty());
}

TEST_CASE("frame: every single-bit flip is refused") {
  Message m = Sample(64);
  const std::string good = EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, m);
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::string w = good;
    w[bit / 8] = static_cast<char>(w[bit / 8] ^ (1 << (bit % 8)));
    FrameDecoder d(FrameLimits{});
    auto used = d.Feed(w.data(), w.size());
    // Either refused now, or (a flipped length) still waiting for bytes that
    // will never form a valid frame; never a frame.
    INFO("bit " << bit);
    CHECK(!d.has_frame());
    if (used.ok()) CHECK(*used == w.size());
  }
}

TEST_CASE("frame: bad magic or version or flags or unknown type are refused at the fixed header") {
  const std::string good = EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, Sample(10));
  auto refuse = [](std::string w, Code want) {
    FrameDecoder d(FrameLimits{});
    auto r = d.Feed(w.data(), kFrameFixedBytes);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == want);
    CHECK(d.failed());
    // Failed for good: more bytes do not revive it.
    CHECK(!d.Feed(w.data(), w.size()).ok());
  };
  std::string w = good;
  w[0] = 'X';
  refuse(w, Code::kCorruption);
  w = good;
  w[4] = 9;
  refuse(w, Code::kNotSupported);
  w = good;
  w[5] = 1;
  refuse(w, Code::kNotSupported);

  Message m = Sample(10);
  FixedHeader fixed;
  EncodeFixedHeader(FrameMeta{9999, 1, 0}, m.header, 10, 0, &fixed);
  refuse(std::string(fixed.data(), fixed.size()), Code::kNotSupported);
  EncodeFixedHeader(FrameMeta{0, 1, 0}, m.header, 10, 0, &fixed);
  refuse(std::string(fixed.data(), fixed.size()), Code::kNotSupported);
  CHECK_FALSE(IsKnownMsgType(50));
  CHECK(IsKnownMsgType(proto::MSG_TEST));
}

TEST_CASE("frame: lengths over the limits are refused before any allocation") {
  FrameLimits limits{1 << 20, 1024};
  FixedHeader fixed;
  // A valid header crc, so it is the length check that refuses.
  EncodeFixedHeader(FrameMeta{proto::MSG_TEST, 1, 0}, "", 0xfffffff0u, 0, &fixed);
  FrameDecoder d(limits);
  auto r = d.Feed(fixed.data(), fixed.size());
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTooBig);

  std::string big_header(2048, 'h');
  EncodeFixedHeader(FrameMeta{proto::MSG_TEST, 1, 0}, big_header, 0, 0, &fixed);
  FrameDecoder d2(limits);
  r = d2.Feed(fixed.data(), fixed.size());
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kTooBig);

  // Exactly at the limit is fine.
  Message m;
  m.type = proto::MSG_TEST;
  m.payload = Bytes(std::string((1 << 20) - kFrameFixedBytes, 'p'));
  auto ok = DecodeAll(EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, m), 65536, limits);
  REQUIRE(ok.ok());
  CHECK(ok->size() == 1);
  m.payload = Bytes(std::string((1 << 20) - kFrameFixedBytes + 1, 'p'));
  CHECK(DecodeAll(EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, m), 65536, limits).status().code() == Code::kTooBig);
}

TEST_CASE("frame: header and payload crc mismatches name what broke") {
  Message m = Sample(32);
  std::string w = EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, m);
  std::string bad_payload = w;
  bad_payload.back() ^= 0x40;
  auto r = DecodeAll(bad_payload, 4096);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kCorruption);
  CHECK(r.status().message().find("payload") != std::string::npos);

  std::string bad_header = w;
  SetLE32(&bad_header, 32, 0x12345678);
  r = DecodeAll(bad_header, 4096);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("header crc") != std::string::npos);
}

TEST_CASE("frame: a truncated frame never completes") {
  std::string w = EncodeFrame(FrameMeta{proto::MSG_TEST, 1, 0}, Sample(1000));
  for (size_t cut : {size_t{1}, size_t{39}, size_t{40}, w.size() - 1}) {
    FrameDecoder d(FrameLimits{});
    auto r = d.Feed(w.data(), cut);
    REQUIRE(r.ok());
    CHECK(!d.has_frame());
    CHECK(!d.idle());
  }
}

TEST_CASE("frame: random garbage never crashes and never yields a frame") {
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string w(rng() % 200, '\0');
    for (char& c : w) c = static_cast<char>(rng());
    if (w.size() >= 4 && i % 2) std::memcpy(w.data(), "NMSG", 4);
    FrameDecoder d(FrameLimits{1 << 16, 1 << 10});
    auto r = d.Feed(w.data(), w.size());
    if (r.ok()) CHECK(!d.has_frame());
  }
}

}  // namespace
}  // namespace nacre::msg
