// FramePipe: one TCP socket carrying frames, with no protocol state of its own.
//
// The pipe reads frames off the socket and hands each to its owner; it asks
// the owner for frames to write whenever the socket is free and writes them
// in one gathered write (fixed header, protobuf header and payload of each
// frame as separate buffers, so the payload is never copied). Sessions come
// and go over pipes: a lossless session gets a new pipe on every reconnect,
// and an accepted pipe changes owner from its handshake to its session.
//
// Invariants:
// - Everything runs on the loop thread; async handlers hold the pipe alive.
// - At most one read and one write are in flight.
// - Once closed, the pipe calls its owner no more and never reopens.
// - Reads use a fixed staging buffer; a large payload is received straight
//   into its own buffer, so memory per pipe is bounded by one frame.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <vector>

#include "common/event_loop.h"
#include "common/msg/frame.h"
#include "common/status.h"

namespace nacre::msg {

class FramePipe;

// Frames the owner hands to one gathered write. Storage is reserved up front
// so the buffers never point into memory that moved.
struct WriteBatch {
  static constexpr size_t kMaxFrames = 64;
  static constexpr size_t kMaxBytes = 4u << 20;  // soft: one frame may exceed it

  WriteBatch();
  void Clear();
  bool full() const { return frames() >= kMaxFrames || bytes >= kMaxBytes; }
  size_t frames() const { return fixed.size(); }
  // Adds one frame. `header` and `payload` must outlive the write.
  void Add(const FrameMeta& meta, const std::string& header, const Bytes& payload, uint32_t payload_crc);
  // Adds a control frame the batch itself keeps alive.
  void AddOwned(const FrameMeta& meta, Message m);

  std::vector<boost::asio::const_buffer> bufs;
  std::vector<FixedHeader> fixed;
  std::vector<Message> owned;
  size_t data_frames = 0;  // frames taken from the owner's data queue
  size_t bytes = 0;
};

class PipeOwner {
 public:
  virtual ~PipeOwner() = default;
  // A complete, validated frame. The owner may close the pipe or give it to
  // another owner from here.
  virtual void OnPipeFrame(const std::shared_ptr<FramePipe>& pipe, Frame&& f) = 0;
  // All frames of one read completion were handled (a good time to ack).
  virtual void OnPipeReadBatchEnd(const std::shared_ptr<FramePipe>&) {}
  // The pipe failed and is already closed.
  virtual void OnPipeError(const std::shared_ptr<FramePipe>& pipe, const Status& why) = 0;
  // Fills `b` with what to send next; leaves it empty when there is nothing.
  virtual void FillWrite(const std::shared_ptr<FramePipe>& pipe, WriteBatch* b) = 0;
  // The batch is fully written.
  virtual void OnWriteDone(const std::shared_ptr<FramePipe>& pipe, const WriteBatch& b) = 0;
};

class FramePipe : public std::enable_shared_from_this<FramePipe> {
 public:
  static constexpr size_t kStagingBytes = 64u << 10;
  // Payload windows at least this big are read directly, skipping staging.
  static constexpr size_t kDirectReadMin = 16u << 10;

  FramePipe(boost::asio::ip::tcp::socket sock, FrameLimits limits, EventLoop& loop);
  ~FramePipe();

  void SetOwner(std::weak_ptr<PipeOwner> owner) { owner_ = std::move(owner); }
  // Starts the read loop.
  void Start();
  // Asks the owner for frames if no write is in flight.
  void Kick();
  // Closes the socket; idempotent, silent (no OnPipeError).
  void Close();
  // Writes what the owner still has, then closes (to deliver a refusal).
  void CloseAfterFlush();
  // Closes and reports `why` to the owner, as a socket error would.
  void Fail(const Status& why);

  bool closed() const { return closed_; }
  const std::string& remote() const { return remote_; }
  const EntityAddr& remote_addr() const { return remote_addr_; }
  EventLoop::Duration last_rx() const { return last_rx_; }
  EventLoop::Duration last_tx() const { return last_tx_; }

 private:
  void StartRead();
  // Shared start of both read completions: false (after failing the pipe
  // on an error) when there is nothing to consume.
  bool ReadDone(const boost::system::error_code& ec);
  void OnRead(const boost::system::error_code& ec, size_t n);
  void OnDirectRead(const boost::system::error_code& ec, size_t n);
  // Feeds staged bytes to the decoder and delivers complete frames.
  void Consume(size_t n);
  bool DeliverFrame();
  void OnWrite(const boost::system::error_code& ec);

  boost::asio::ip::tcp::socket sock_;
  EventLoop& loop_;
  std::weak_ptr<PipeOwner> owner_;
  EntityAddr remote_addr_;
  std::string remote_;  // remote_addr_ as text, for logs
  FrameDecoder decoder_;
  std::unique_ptr<char[]> staging_;
  WriteBatch batch_;
  bool writing_ = false;
  bool reading_ = false;
  bool close_after_flush_ = false;
  bool closed_ = false;
  EventLoop::Duration last_rx_{};
  EventLoop::Duration last_tx_{};
};

}  // namespace nacre::msg
