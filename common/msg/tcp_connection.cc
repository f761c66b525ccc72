#include "common/msg/tcp_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cassert>
#include <sstream>

#include "common/crc32c.h"
#include "common/log.h"
#include "common/msg/tcp_messenger.h"
#include "proto/messenger.pb.h"

namespace nacre::msg {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr uint16_t kFirstDataType = 100;

double Secs(EventLoop::Duration d) { return std::chrono::duration<double>(d).count(); }

// "2s", "0.25s": for log lines.
std::string SecsText(EventLoop::Duration d) {
  std::ostringstream os;
  os << Secs(d) << "s";
  return os.str();
}

Message ControlMessage(uint16_t type) {
  Message m;
  m.type = type;
  return m;
}

}  // namespace

TcpConnection::TcpConnection(TcpMessenger* msgr, std::string peer_name, EntityAddr addr, Policy policy,
                             bool initiator, uint64_t conn_id, uint64_t peer_incarnation)
    : msgr_(msgr),
      peer_name_(std::move(peer_name)),
      addr_(std::move(addr)),
      policy_(policy),
      initiator_(initiator),
      conn_id_(conn_id),
      lossless_(policy == Policy::kLossless),
      loop_(msgr->loop_),
      limits_(msgr->opts_.limits),
      max_buffered_(msgr->opts_.max_buffered_bytes),
      peer_incarnation_(peer_incarnation),
      backoff_(msgr->opts_.backoff_min) {}

TcpConnection::~TcpConnection() = default;

void TcpConnection::InitClosed() {
  state_ = State::kClosed;
  std::lock_guard<std::mutex> g(mu_);
  down_ = true;
}

// --- application side (any thread) -----------------------------------------

Status TcpConnection::Send(Message m) {
  if (m.type < kFirstDataType || !IsKnownMsgType(m.type))
    return Invalid("message type " + std::to_string(m.type) + " is not a data type of proto::MsgType");
  if (m.header.size() > limits_.max_header_bytes)
    return TooBig("message header of " + std::to_string(m.header.size()) + " bytes over ms_max_header_bytes");
  const size_t cost = kFrameFixedBytes + m.wire_size();
  if (cost > limits_.max_frame_bytes) return TooBig("message of " + std::to_string(cost) + " bytes over ms_max_frame_bytes");
  if (cost > max_buffered_) return TooBig("message of " + std::to_string(cost) + " bytes over ms_max_buffered_bytes");
  auto refusal = [&]() -> Status {
    if (down_) return ShuttingDown("connection to " + peer_name_ + " is closed");
    if (buffered_ + cost > max_buffered_)
      return TryAgain("send buffer to " + peer_name_ + " full (" + std::to_string(buffered_) + " bytes)");
    return Status::OK();
  };
  {
    // Refuse before checksumming: a caller retrying on kAgain must not pay
    // for a crc of the whole payload on every attempt.
    std::lock_guard<std::mutex> g(mu_);
    NACRE_RETURN_IF_ERROR(refusal());
  }
  // Checksummed once here, outside the lock; resends reuse it.
  const uint32_t crc = Crc32c(m.payload.view());
  bool post = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    NACRE_RETURN_IF_ERROR(refusal());
    q_.push_back(OutMsg{++out_seq_, crc, cost, std::move(m)});
    buffered_ += cost;
    if (!kick_posted_) post = kick_posted_ = true;
  }
  if (post) PostKick();
  return Status::OK();
}

void TcpConnection::MarkDown() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (down_) return;
    down_ = true;
  }
  loop_.Post([self = shared_from_this()] { self->Close("marked down", true); });
}

bool TcpConnection::IsOpen() const {
  std::lock_guard<std::mutex> g(mu_);
  return !down_;
}

void TcpConnection::PostKick() {
  loop_.Post([w = weak_from_this()] {
    if (auto c = w.lock()) c->KickPipe();
  });
}

void TcpConnection::KickPipe() {
  {
    std::lock_guard<std::mutex> g(mu_);
    kick_posted_ = false;
  }
  if (state_ == State::kOpen && pipe_) pipe_->Kick();
}

// --- establishing (loop thread) ----------------------------------------------

void TcpConnection::StartConnect() {
  if (state_ == State::kClosed) return;
  assert(initiator_);
  state_ = State::kConnecting;
  ++attempt_;
  handshake_start_ = loop_.Now();
  hs_.reset();
  ctl_q_.clear();
  if (tick_timer_ == 0) ScheduleTick();

  auto sock = std::make_shared<tcp::socket>(msgr_->loop_.io());
  connect_sock_ = sock;
  const uint64_t attempt = attempt_;
  auto self = shared_from_this();
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addr_.host, ec);
  if (!ec) {
    sock->async_connect(tcp::endpoint(ip, addr_.port), [self, attempt, sock](const boost::system::error_code& e) {
      self->OnConnected(attempt, e, sock);
    });
    return;
  }
  auto resolver = std::make_shared<tcp::resolver>(msgr_->loop_.io());
  resolver->async_resolve(
      addr_.host, std::to_string(addr_.port),
      [self, attempt, sock, resolver](const boost::system::error_code& e, const tcp::resolver::results_type& results) {
        if (e) {
          self->OnConnected(attempt, e, sock);
          return;
        }
        asio::async_connect(*sock, results, [self, attempt, sock](const boost::system::error_code& e2, const tcp::endpoint&) {
          self->OnConnected(attempt, e2, sock);
        });
      });
}

void TcpConnection::OnConnected(uint64_t attempt, const boost::system::error_code& ec,
                                const std::shared_ptr<tcp::socket>& sock) {
  if (attempt != attempt_ || state_ != State::kConnecting) return;
  connect_sock_.reset();
  if (ec) {
    Fault(IOError("connect to " + addr_.ToString() + ": " + ec.message()));
    return;
  }
  pipe_ = std::make_shared<FramePipe>(std::move(*sock), limits_, loop_);
  pipe_->SetOwner(weak_from_this());
  ClientHandshake::Params p;
  p.my_name = msgr_->my_name_;
  p.my_secret = msgr_->my_secret_;
  p.my_incarnation = msgr_->incarnation_;
  p.peer_name = peer_name_;
  p.conn_id = conn_id_;
  p.policy = policy_;
  hs_.emplace(std::move(p), WallClockNs());
  ctl_q_.push_back(hs_->Hello());
  state_ = State::kHandshaking;
  pipe_->Start();
  pipe_->Kick();
}

void TcpConnection::OnHandshakeFrame(Frame&& f) {
  assert(hs_);
  if (f.msg.type == proto::MSG_CHALLENGE) {
    Result<Message> auth = hs_->OnChallenge(f.msg, in_seq_);
    if (!auth.ok()) {
      msgr_->stats_.auth_refusals++;
      NLOG(ms, kWarn) << msgr_->my_name_ << ": refusing " << peer_name_ << " at " << addr_.ToString() << ": "
                      << auth.status().ToString();
      Close("handshake refused: " + auth.status().message(), true);
      return;
    }
    ctl_q_.push_back(std::move(auth).value());
    pipe_->Kick();
    return;
  }
  if (f.msg.type == proto::MSG_AUTH_DONE) {
    Result<ClientHandshakeResult> r = hs_->OnAuthDone(f.msg);
    if (!r.ok()) {
      msgr_->stats_.auth_refusals++;
      NLOG(ms, kWarn) << msgr_->my_name_ << ": connection to " << peer_name_ << " at " << addr_.ToString()
                      << " refused: " << r.status().ToString();
      Close("handshake refused: " + r.status().message(), true);
      return;
    }
    OnHandshakeDone(*r);
    return;
  }
  Fault(Invalid("frame of type " + std::to_string(f.msg.type) + " during the handshake"));
}

void TcpConnection::OnHandshakeDone(const ClientHandshakeResult& r) {
  // The peer lost our session when it restarted (new incarnation) or dropped
  // it (new_session): its numbering starts over, and so does ours.
  const bool reset = ever_connected_ && (r.peer_incarnation != peer_incarnation_ || r.new_session);
  peer_incarnation_ = r.peer_incarnation;
  ever_connected_ = true;
  bool bogus = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (reset) {
      uint64_t seq = 0;
      for (OutMsg& o : q_) o.seq = ++seq;
      max_written_seq_ = std::min<uint64_t>(send_pos_, seq);
      out_seq_ = seq;
      peer_acked_ = 0;
    } else if (!r.new_session) {
      if (r.peer_in_seq > out_seq_) bogus = true;
      else peer_acked_ = std::max(peer_acked_, r.peer_in_seq);
    }
    if (!bogus) RewindLocked();
  }
  if (bogus) {
    Fault(Corruption("peer claims to have received messages never sent"));
    return;
  }
  if (reset) {
    in_seq_ = 0;
    ack_sent_ = 0;
  }
  hs_.reset();
  state_ = State::kOpen;
  backoff_ = msgr_->opts_.backoff_min;
  msgr_->stats_.handshakes++;
  NLOG(ms, kDebug) << msgr_->my_name_ << ": connected to " << peer_name_ << " at " << addr_.ToString()
                   << (reset ? " (peer restarted)" : "");
  auto self = shared_from_this();
  if (reset) {
    msgr_->stats_.remote_resets++;
    NLOG(ms, kInfo) << msgr_->my_name_ << ": " << peer_name_ << " is a new incarnation; resending "
                    << "unacknowledged messages";
    msgr_->NotifyRemoteReset(self);
  }
  if (state_ == State::kOpen) msgr_->NotifyConnect(self);
  if (state_ == State::kOpen && pipe_) pipe_->Kick();
}

void TcpConnection::Resume(const std::shared_ptr<FramePipe>& pipe, uint64_t peer_in_seq, bool new_session) {
  assert(!initiator_);
  if (state_ == State::kClosed) {
    pipe->Close();
    return;
  }
  if (pipe_) pipe_->Close();  // the initiator gave up on the old socket
  pipe_ = pipe;
  pipe_->SetOwner(weak_from_this());
  ctl_q_.clear();
  bool bogus = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!new_session) {
      if (peer_in_seq > out_seq_) bogus = true;
      else peer_acked_ = std::max(peer_acked_, peer_in_seq);
    }
    if (!bogus) RewindLocked();
  }
  if (bogus) {
    Fault(Corruption("peer claims to have received messages never sent"));
    return;
  }
  ctl_q_.push_back(ServerHandshake::AuthDone(true, in_seq_, new_session));
  state_ = State::kOpen;
  msgr_->stats_.handshakes++;
  if (tick_timer_ == 0) ScheduleTick();
  msgr_->NotifyConnect(shared_from_this());
  if (state_ == State::kOpen && pipe_) pipe_->Kick();
}

// --- frames (loop thread) ------------------------------------------------------

void TcpConnection::OnPipeFrame(const std::shared_ptr<FramePipe>& pipe, Frame&& f) {
  if (pipe != pipe_) return;
  if (state_ == State::kHandshaking) {
    OnHandshakeFrame(std::move(f));
    return;
  }
  if (state_ != State::kOpen) return;
  const uint16_t type = f.msg.type;
  if (type >= kFirstDataType) {
    if (f.seq == 0) {
      Fault(Corruption("data frame without a sequence number"));
      return;
    }
    if (!OnAck(f.ack)) return;
    if (f.seq <= in_seq_) {
      msgr_->stats_.duplicates_dropped++;  // a resend of what we already dispatched
      return;
    }
    if (f.seq != in_seq_ + 1) {
      Fault(Corruption("sequence gap: expected " + std::to_string(in_seq_ + 1) + ", got " + std::to_string(f.seq)));
      return;
    }
    msgr_->DeliverMessage(shared_from_this(), std::move(f.msg));
    // Only now: an ack promises that OnMessage has returned.
    in_seq_ = f.seq;
    return;
  }
  if ((type == proto::MSG_KEEPALIVE || type == proto::MSG_ACK) && f.seq == 0) {
    OnAck(f.ack);
    return;
  }
  Fault(Invalid("unexpected frame of type " + std::to_string(type) + " on an open connection"));
}

void TcpConnection::OnPipeReadBatchEnd(const std::shared_ptr<FramePipe>& pipe) {
  // Ack what this read delivered; FillWrite sends a bare ack only if no
  // data frame is going out to carry it.
  if (pipe == pipe_ && state_ == State::kOpen && lossless_ && in_seq_ > ack_sent_) pipe_->Kick();
}

bool TcpConnection::OnAck(uint64_t ack) {
  if (!lossless_) return true;  // lossy sessions keep nothing to trim
  bool bogus = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (ack > out_seq_) {
      bogus = true;
    } else if (ack > peer_acked_) {
      peer_acked_ = ack;
      TrimAckedLocked();
    }
  }
  if (bogus) Fault(Corruption("ack " + std::to_string(ack) + " for a message never sent"));
  return !bogus;
}

void TcpConnection::TrimAckedLocked() {
  while (!q_.empty() && q_.front().seq <= peer_acked_) {
    // The in-flight part is q_[send_pos_-inflight_, send_pos_): its memory is
    // still being written, so it stays until OnWriteDone.
    if (inflight_ > 0 && send_pos_ <= inflight_) break;
    buffered_ -= q_.front().cost;
    q_.pop_front();
    if (send_pos_ > 0) --send_pos_;
  }
}

void TcpConnection::RewindLocked() {
  send_pos_ = 0;
  inflight_ = 0;
  TrimAckedLocked();
}

// --- writing (loop thread) -----------------------------------------------------

void TcpConnection::FillWrite(const std::shared_ptr<FramePipe>& pipe, WriteBatch* b) {
  if (pipe != pipe_) return;
  const uint64_t ack = state_ == State::kOpen ? in_seq_ : 0;
  while (!ctl_q_.empty() && !b->full()) {
    uint16_t type = ctl_q_.front().type;
    b->AddOwned(FrameMeta{type, 0, ack}, std::move(ctl_q_.front()));
    ctl_q_.pop_front();
  }
  if (state_ != State::kOpen) return;
  bool inject = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    while (send_pos_ < q_.size() && !b->full()) {
      if (msgr_->InjectFailure()) {
        inject = true;
        break;
      }
      const OutMsg& o = q_[send_pos_];
      b->Add(FrameMeta{o.m.type, o.seq, ack}, o.m.header, o.m.payload, o.payload_crc);
      if (o.seq <= max_written_seq_) msgr_->stats_.resent++;
      else max_written_seq_ = o.seq;
      ++send_pos_;
      ++b->data_frames;
    }
    inflight_ = b->data_frames;
  }
  if (b->frames() == 0 && lossless_ && in_seq_ > ack_sent_)
    b->AddOwned(FrameMeta{static_cast<uint16_t>(proto::MSG_ACK), 0, ack}, ControlMessage(proto::MSG_ACK));
  if (b->frames() > 0) ack_sent_ = ack;
  if (inject) {
    // After this batch: the fault must not run inside the pipe's write setup.
    loop_.Post([w = weak_from_this(), p = std::weak_ptr<FramePipe>(pipe)] {
      auto c = w.lock();
      auto pp = p.lock();
      if (c && pp && pp == c->pipe_) pp->Fail(IOError("injected socket failure (ms_inject_socket_failures)"));
    });
  }
}

void TcpConnection::OnWriteDone(const std::shared_ptr<FramePipe>& pipe, const WriteBatch& b) {
  if (pipe != pipe_) return;
  msgr_->stats_.msgs_sent += b.data_frames;
  std::lock_guard<std::mutex> g(mu_);
  assert(b.data_frames == inflight_);
  if (!lossless_) {
    // Lossy: what is written is forgotten; it was q_'s front.
    for (size_t i = 0; i < b.data_frames && !q_.empty(); ++i) {
      buffered_ -= q_.front().cost;
      q_.pop_front();
    }
    send_pos_ -= std::min(send_pos_, b.data_frames);
  }
  inflight_ = 0;
  if (lossless_) TrimAckedLocked();
}

// --- faults, timers, closing (loop thread) -------------------------------------

void TcpConnection::OnPipeError(const std::shared_ptr<FramePipe>& pipe, const Status& why) {
  if (pipe != pipe_) return;
  Fault(why);
}

void TcpConnection::Fault(const Status& why) {
  if (state_ == State::kClosed) return;
  msgr_->stats_.faults++;
  // A closed or failed socket is routine; anything else is a misbehaving peer.
  const bool routine = why.code() == Code::kIO;
  if (routine) {
    NLOG(ms, kInfo) << msgr_->my_name_ << ": connection with " << peer_name_ << " (" << StateName()
                    << ") failed: " << why.ToString();
  } else {
    NLOG(ms, kWarn) << msgr_->my_name_ << ": closing connection with " << peer_name_ << " ("
                    << (pipe_ ? pipe_->remote() : addr_.ToString()) << "): " << why.ToString();
  }
  DropSockets();
  hs_.reset();
  ctl_q_.clear();
  {
    std::lock_guard<std::mutex> g(mu_);
    inflight_ = 0;  // that write died with the socket
  }
  if (!lossless_) {
    Close(why.ToString(), true);
    return;
  }
  if (initiator_) {
    state_ = State::kBackoff;
    ScheduleReconnect();
  } else {
    state_ = State::kStandby;
  }
}

void TcpConnection::ScheduleReconnect() {
  NLOG(ms, kDebug) << msgr_->my_name_ << ": reconnecting to " << peer_name_ << " in " << Secs(backoff_) << "s";
  reconnect_timer_ = loop_.CallAfter(backoff_, [w = weak_from_this()] {
    auto c = w.lock();
    if (!c) return;
    c->reconnect_timer_ = 0;
    if (c->state_ == State::kBackoff) c->StartConnect();
  });
  backoff_ = std::min(backoff_ * 2, msgr_->opts_.backoff_max);
}

void TcpConnection::ScheduleTick() {
  const auto& o = msgr_->opts_;
  auto period = std::min({o.keepalive_interval, o.connect_timeout / 4, o.connection_timeout / 4});
  period = std::clamp<EventLoop::Duration>(period, std::chrono::milliseconds(5), std::chrono::seconds(1));
  tick_timer_ = loop_.CallAfter(period, [w = weak_from_this()] {
    auto c = w.lock();
    if (!c) return;
    c->tick_timer_ = 0;
    c->OnTick();
  });
}

void TcpConnection::OnTick() {
  if (state_ == State::kClosed) return;
  const auto& o = msgr_->opts_;
  const auto now = loop_.Now();
  if (state_ == State::kConnecting || state_ == State::kHandshaking) {
    if (now - handshake_start_ > o.connect_timeout) {
      Fault(TimedOut("connect and handshake took over " + SecsText(o.connect_timeout)));
    }
  } else if (state_ == State::kOpen && pipe_) {
    if (now - pipe_->last_rx() > o.connection_timeout) {
      Fault(TimedOut("peer silent for over " + SecsText(o.connection_timeout)));
    } else if (now - pipe_->last_tx() >= o.keepalive_interval) {
      bool queued = std::any_of(ctl_q_.begin(), ctl_q_.end(),
                                [](const Message& m) { return m.type == proto::MSG_KEEPALIVE; });
      if (!queued) ctl_q_.push_back(ControlMessage(proto::MSG_KEEPALIVE));
      pipe_->Kick();
    }
  }
  if (state_ != State::kClosed) ScheduleTick();
}

void TcpConnection::DropSockets() {
  if (pipe_) {
    pipe_->Close();
    pipe_.reset();
  }
  if (connect_sock_) {
    boost::system::error_code ec;
    connect_sock_->close(ec);
    connect_sock_.reset();
  }
}

void TcpConnection::Close(const std::string& why, bool notify) {
  if (state_ == State::kClosed) return;
  NLOG(ms, kDebug) << msgr_->my_name_ << ": connection with " << peer_name_ << " closed: " << why;
  state_ = State::kClosed;
  DropSockets();
  if (tick_timer_) loop_.Cancel(tick_timer_);
  if (reconnect_timer_) loop_.Cancel(reconnect_timer_);
  tick_timer_ = reconnect_timer_ = 0;
  hs_.reset();
  ctl_q_.clear();
  {
    std::lock_guard<std::mutex> g(mu_);
    down_ = true;
    q_.clear();
    buffered_ = 0;
    send_pos_ = inflight_ = 0;
  }
  auto self = shared_from_this();  // the messenger's maps may hold the last reference
  msgr_->Forget(this);
  if (notify) msgr_->NotifyReset(self);
}

const char* TcpConnection::StateName() const {
  switch (state_) {
    case State::kIdle: return "idle";
    case State::kConnecting: return "connecting";
    case State::kHandshaking: return "handshaking";
    case State::kOpen: return "open";
    case State::kBackoff: return "backoff";
    case State::kStandby: return "standby";
    case State::kClosed: return "closed";
  }
  return "?";
}

}  // namespace nacre::msg
