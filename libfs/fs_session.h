// MdsSession: a filesystem client's session with the active MDS of rank 0.
//
// It owns one event-loop thread, a TcpMessenger and a MonSession that
// follows the FSMap (want_fsmap). From the FSMap it picks the filesystem
// (by name, or the only one) and the MDS holding rank 0 in state
// "up:active"; it opens a session there (MSG_MDS_SESSION OPEN) and renews it
// every third of the session timeout.
//
// Requests (Call) get a tid unique within this client and wait for their
// MdsReply. Invariants:
//  - a request stays in `requests_` (mds_requests.h) until its reply
//    arrives or the session is shut down; it is (re)sent whenever a session
//    becomes open, with the same tid and attempt + 1, so after an MDS
//    failover (a new active in the FSMap, or a reset connection) every
//    unanswered request is resent after MDS_SESSION_RECONNECT, which
//    carries the caps we hold.
//  - everything touching connection state runs on the loop thread; callers
//    from other threads only post to it and wait on condition variables.
//  - the number of outstanding requests is bounded (max_pending); Call
//    blocks while it is full.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/msg/tcp_messenger.h"
#include "common/status.h"
#include "libfs/mds_requests.h"
#include "cluster/mon_session.h"
#include "mds.pb.h"
#include "mon.pb.h"

namespace nacre::fs {

class MdsSession : public msg::Dispatcher {
 public:
  struct Options {
    std::string fs_name;       // "" = the only filesystem
    std::string root = "/";    // for the MDS's session status
    double mount_timeout = 300;
    size_t max_pending = 1024;
    // Called on the loop thread for every MSG_MDS_CAP from the MDS; must not block.
    std::function<void(const proto::CapProto&)> on_cap;
    // Called on the loop thread to list the caps held, for RECONNECT.
    std::function<std::vector<proto::CapProto>()> held_caps;
  };

  MdsSession() = default;
  ~MdsSession() override;

  // Connects to the monitors and waits until a session with rank 0's
  // active MDS is open: ENOENT for an unknown filesystem, ETIMEDOUT when no
  // MDS becomes active within mount_timeout.
  Status Start(const Config& config, Options opts);
  // Closes the session (best effort) and stops the loop; pending calls
  // complete with ESHUTDOWN.
  void Shutdown();

  // Sends `req` (tid, rank and attempt are filled in) and waits for the
  // reply. Returns the transport outcome; the MDS's errno is in
  // reply.status().
  Result<proto::MdsReply> Call(proto::MdsRequest req);
  // Sends a cap message to the current MDS (dropped if no session is open:
  // RECONNECT carries the state again).
  void SendCap(const proto::CapProto& cap);

  proto::FilesystemInfo fs_info() const;
  const std::string& entity() const { return entity_; }
  uint64_t session_id() const;
  // Bumped every time a session with an MDS (re)opens: a caller waiting for
  // an answer to a message that is not a request (a cap flush) sends it
  // again when this changes, since the MDS it went to may have died.
  uint64_t generation() const { return gen_.load(); }

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override;
  void OnReset(const msg::ConnectionRef& con) override;

 private:
  enum class State { kNoMds, kOpening, kOpen, kClosed };

  // Loop thread only.
  void HandleFsMap(const proto::FSMapProto& m);
  void ConnectToActive();
  void HandleSessionReply(const proto::MdsSessionReply& r);
  void HandleReply(const proto::MdsReply& r);
  void SendRequest(PendingRequest* p);
  void ResendAll();
  void ArmRenew();
  void ArmRetry();

  AsioEventLoop loop_;
  std::thread thread_;
  std::unique_ptr<msg::TcpMessenger> ms_;
  std::unique_ptr<monc::MonSession> mons_;
  Options opts_;
  std::string entity_;
  std::string uuid_;

  // Loop-thread state.
  msg::ConnectionRef con_;
  std::string mds_name_;      // "mds.a" we are connected to
  msg::EntityAddr mds_addr_;
  uint64_t mds_gid_ = 0;
  msg::EntityAddr active_addr_;  // from the latest FSMap
  std::string active_name_;
  uint64_t active_gid_ = 0;
  uint64_t renew_seq_ = 0;
  std::atomic<uint64_t> gen_{0};  // bumped each time a session (re)opens
  EventLoop::TimerId renew_timer_ = 0, retry_timer_ = 0;
  uint32_t session_timeout_ms_ = 60000;
  EventLoop::Duration first_map_at_{0};

  // Shared with caller threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kNoMds;
  Status fatal_;               // set when the mount can never succeed (unknown fs)
  bool running_ = false;
  uint64_t session_ = 0;       // 0: none yet
  RequestTable requests_{1024};
  proto::FilesystemInfo fs_;
  bool have_fs_ = false;
};

}  // namespace nacre::fs
