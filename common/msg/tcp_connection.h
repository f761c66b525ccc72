// TcpConnection: one messenger session with a peer, over a succession of
// sockets (FramePipes).
//
// The session is what the application holds (a msg::Connection). It numbers
// outgoing data messages 1, 2, 3... and keeps them in one ordered queue:
//
//   q_: [ written, awaiting ack ... | in flight | not yet written ... ]
//        0                  send_pos_-inflight_  send_pos_          size
//
// A lossy session drops a message once written; a lossless one keeps it until
// the peer acknowledges its seq (ack = "OnMessage returned for every seq up
// to here"). Incoming data must arrive as in_seq_+1; a seq at or below
// in_seq_ is a resend after reconnect and is dropped, which is what makes
// delivery exactly-once across socket faults.
//
// Only the initiator (the side that called Connect) reconnects. The accepting
// side keeps a lossless session in standby after a fault until the initiator
// returns, and then resumes it on the new socket.
//
// Threads: Send/MarkDown/IsOpen from any thread; q_ and its counters under
// mu_; everything else on the loop thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/msg/frame_pipe.h"
#include "common/msg/handshake.h"
#include "common/msg/messenger.h"

namespace nacre::msg {

class TcpMessenger;

class TcpConnection final : public Connection, public PipeOwner, public std::enable_shared_from_this<TcpConnection> {
 public:
  // `initiator`: we connect (and reconnect) to `addr`; otherwise the session
  // was accepted and waits for Resume.
  TcpConnection(TcpMessenger* msgr, std::string peer_name, EntityAddr addr, Policy policy, bool initiator,
                uint64_t conn_id, uint64_t peer_incarnation);
  ~TcpConnection() override;

  // Connection
  const std::string& peer_name() const override { return peer_name_; }
  EntityAddr peer_addr() const override { return addr_; }
  Policy policy() const override { return policy_; }
  Status Send(Message m) override;
  void MarkDown() override;
  bool IsOpen() const override;

  // Loop thread, from the messenger.
  void StartConnect();
  // Accepting side: the handshake on `pipe` completed; take the socket over.
  void Resume(const std::shared_ptr<FramePipe>& pipe, uint64_t peer_in_seq, bool new_session);
  // Closes for good. `notify`: tell the dispatcher (OnReset).
  void Close(const std::string& why, bool notify);
  // For a messenger that is shutting down: the connection is born closed.
  void InitClosed();
  bool initiator() const { return initiator_; }
  uint64_t conn_id() const { return conn_id_; }
  bool standby() const { return state_ == State::kStandby; }
  uint64_t peer_incarnation() const { return peer_incarnation_; }

  // PipeOwner
  void OnPipeFrame(const std::shared_ptr<FramePipe>& pipe, Frame&& f) override;
  void OnPipeReadBatchEnd(const std::shared_ptr<FramePipe>& pipe) override;
  void OnPipeError(const std::shared_ptr<FramePipe>& pipe, const Status& why) override;
  void FillWrite(const std::shared_ptr<FramePipe>& pipe, WriteBatch* b) override;
  void OnWriteDone(const std::shared_ptr<FramePipe>& pipe, const WriteBatch& b) override;

 private:
  enum class State {
    kIdle,         // not started
    kConnecting,   // initiator: TCP connect in progress
    kHandshaking,  // initiator: hello sent, waiting for the verdict
    kOpen,         // data flows
    kBackoff,      // initiator, lossless: waiting to reconnect
    kStandby,      // acceptor, lossless: waiting for the initiator to return
    kClosed,       // for good
  };
  struct OutMsg {
    uint64_t seq;
    uint32_t payload_crc;
    size_t cost;  // bytes charged against the buffer limit
    Message m;
  };

  void OnConnected(uint64_t attempt, const boost::system::error_code& ec,
                   const std::shared_ptr<boost::asio::ip::tcp::socket>& sock);
  void OnHandshakeFrame(Frame&& f);
  void OnHandshakeDone(const ClientHandshakeResult& r);
  // A socket-level failure: reconnect, stand by or close, by role and policy.
  void Fault(const Status& why);
  // Closes the current socket (established or still connecting), if any.
  void DropSockets();
  void ScheduleReconnect();
  void ScheduleTick();
  void OnTick();
  void KickPipe();
  void PostKick();
  // Records the peer's ack; false when it acks what we never sent.
  bool OnAck(uint64_t ack);
  // Under mu_: drops acknowledged messages that are not in flight.
  void TrimAckedLocked();
  // Under mu_: makes every unacknowledged message due for sending again.
  void RewindLocked();
  const char* StateName() const;

  TcpMessenger* const msgr_;  // valid until kClosed
  const std::string peer_name_;
  const EntityAddr addr_;
  const Policy policy_;
  const bool initiator_;
  const uint64_t conn_id_;
  const bool lossless_;
  // Copies, so Send never reaches into the messenger: an application may hold
  // a connection past the messenger's life.
  EventLoop& loop_;
  const FrameLimits limits_;
  const size_t max_buffered_;

  mutable std::mutex mu_;
  std::deque<OutMsg> q_;
  size_t send_pos_ = 0;
  size_t inflight_ = 0;
  uint64_t out_seq_ = 0;        // last seq assigned
  uint64_t peer_acked_ = 0;     // highest ack from the peer
  size_t buffered_ = 0;         // sum of cost over q_
  bool down_ = false;           // closed for good: Send fails
  bool kick_posted_ = false;

  // Loop thread only.
  State state_ = State::kIdle;
  std::shared_ptr<FramePipe> pipe_;
  std::shared_ptr<boost::asio::ip::tcp::socket> connect_sock_;  // while kConnecting
  std::optional<ClientHandshake> hs_;
  std::deque<Message> ctl_q_;   // control frames, written before data
  uint64_t in_seq_ = 0;         // last seq dispatched
  uint64_t ack_sent_ = 0;       // last ack value written
  uint64_t peer_incarnation_;
  uint64_t attempt_ = 0;        // connect attempts, to ignore stale handlers
  EventLoop::Duration handshake_start_{};
  EventLoop::Duration backoff_{};
  EventLoop::TimerId tick_timer_ = 0;
  EventLoop::TimerId reconnect_timer_ = 0;
  bool ever_connected_ = false;
  uint64_t max_written_seq_ = 0;  // to count resends
};

}  // namespace nacre::msg
