#include "common/msg/frame_pipe.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cassert>

#include "common/crc32c.h"
#include "common/log.h"

namespace nacre::msg {

namespace asio = boost::asio;

WriteBatch::WriteBatch() {
  bufs.reserve(kMaxFrames * 3);
  fixed.reserve(kMaxFrames);
  owned.reserve(kMaxFrames);
}

void WriteBatch::Clear() {
  bufs.clear();
  fixed.clear();
  owned.clear();
  data_frames = 0;
  bytes = 0;
}

void WriteBatch::Add(const FrameMeta& meta, const std::string& header, const Bytes& payload, uint32_t payload_crc) {
  assert(fixed.size() < kMaxFrames);
  fixed.emplace_back();
  EncodeFixedHeader(meta, header, payload.size(), payload_crc, &fixed.back());
  bufs.emplace_back(fixed.back().data(), fixed.back().size());
  if (!header.empty()) bufs.emplace_back(header.data(), header.size());
  if (!payload.empty()) bufs.emplace_back(payload.data(), payload.size());
  bytes += kFrameFixedBytes + header.size() + payload.size();
}

void WriteBatch::AddOwned(const FrameMeta& meta, Message m) {
  assert(owned.size() < kMaxFrames);
  owned.push_back(std::move(m));
  const Message& o = owned.back();
  Add(meta, o.header, o.payload, Crc32c(o.payload.view()));
}

FramePipe::FramePipe(asio::ip::tcp::socket sock, FrameLimits limits, EventLoop& loop)
    : sock_(std::move(sock)), loop_(loop), decoder_(limits), staging_(new char[kStagingBytes]) {
  boost::system::error_code ec;
  auto ep = sock_.remote_endpoint(ec);
  if (!ec) remote_addr_ = EntityAddr{ep.address().to_string(), ep.port()};
  remote_ = ec ? std::string("?") : remote_addr_.ToString();
  // Small frames (acks, replies) must not wait for Nagle.
  sock_.set_option(asio::ip::tcp::no_delay(true), ec);
  last_rx_ = last_tx_ = loop_.Now();
}

FramePipe::~FramePipe() {
  boost::system::error_code ec;
  sock_.close(ec);
}

void FramePipe::Start() {
  if (closed_ || reading_) return;
  StartRead();
}

void FramePipe::StartRead() {
  reading_ = true;
  auto self = shared_from_this();
  std::span<char> win = decoder_.PayloadWindow();
  if (win.size() >= kDirectReadMin) {
    sock_.async_read_some(asio::buffer(win.data(), win.size()),
                          [self](const boost::system::error_code& ec, size_t n) { self->OnDirectRead(ec, n); });
  } else {
    sock_.async_read_some(asio::buffer(staging_.get(), kStagingBytes),
                          [self](const boost::system::error_code& ec, size_t n) { self->OnRead(ec, n); });
  }
}

bool FramePipe::ReadDone(const boost::system::error_code& ec) {
  reading_ = false;
  if (closed_) return false;
  if (ec) {
    Fail(IOError(ec == asio::error::eof ? "connection closed by peer" : "read: " + ec.message()));
    return false;
  }
  last_rx_ = loop_.Now();
  return true;
}

void FramePipe::OnRead(const boost::system::error_code& ec, size_t n) {
  if (!ReadDone(ec)) return;
  Consume(n);
  if (closed_) return;
  if (auto owner = owner_.lock()) owner->OnPipeReadBatchEnd(shared_from_this());
  if (!closed_) StartRead();
}

void FramePipe::OnDirectRead(const boost::system::error_code& ec, size_t n) {
  if (!ReadDone(ec)) return;
  Status s = decoder_.CommitPayload(n);
  if (!s.ok()) {
    Fail(s);
    return;
  }
  if (decoder_.has_frame() && !DeliverFrame()) return;
  if (auto owner = owner_.lock()) owner->OnPipeReadBatchEnd(shared_from_this());
  if (!closed_) StartRead();
}

void FramePipe::Consume(size_t n) {
  size_t pos = 0;
  while (pos < n) {
    Result<size_t> used = decoder_.Feed(staging_.get() + pos, n - pos);
    if (!used.ok()) {
      Fail(used.status());
      return;
    }
    pos += *used;
    if (decoder_.has_frame() && !DeliverFrame()) return;
  }
}

bool FramePipe::DeliverFrame() {
  Frame f = decoder_.TakeFrame();
  // Locked per frame: the owner may hand this pipe to another owner.
  auto owner = owner_.lock();
  if (!owner) {
    Close();
    return false;
  }
  owner->OnPipeFrame(shared_from_this(), std::move(f));
  return !closed_;
}

void FramePipe::Kick() {
  if (closed_ || writing_) return;
  auto owner = owner_.lock();
  if (!owner) {
    Close();
    return;
  }
  batch_.Clear();
  owner->FillWrite(shared_from_this(), &batch_);
  if (closed_) return;
  if (batch_.bufs.empty()) {
    if (close_after_flush_) Close();
    return;
  }
  writing_ = true;
  auto self = shared_from_this();
  // asio's default transfer_all() caps each writev at 64 KiB, which costs a
  // syscall and an epoll round per 64 KiB of a large payload; let the kernel
  // take as much as its buffer holds.
  auto as_much_as_possible = [](const boost::system::error_code& ec, size_t) -> size_t {
    return ec ? 0 : size_t{1} << 30;
  };
  asio::async_write(sock_, batch_.bufs, as_much_as_possible,
                    [self](const boost::system::error_code& ec, size_t) { self->OnWrite(ec); });
}

void FramePipe::OnWrite(const boost::system::error_code& ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    Fail(IOError("write: " + ec.message()));
    return;
  }
  last_tx_ = loop_.Now();
  if (auto owner = owner_.lock()) owner->OnWriteDone(shared_from_this(), batch_);
  Kick();
}

void FramePipe::Close() {
  if (closed_) return;
  closed_ = true;
  owner_.reset();
  boost::system::error_code ec;
  sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  sock_.close(ec);
}

void FramePipe::CloseAfterFlush() {
  close_after_flush_ = true;
  Kick();
}

void FramePipe::Fail(const Status& why) {
  if (closed_) return;
  auto owner = owner_.lock();
  Close();
  if (owner) owner->OnPipeError(shared_from_this(), why);
}

}  // namespace nacre::msg
