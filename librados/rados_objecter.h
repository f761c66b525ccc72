// Objecter: the part of librados that sends object operations to OSDs and
// sees each one through to an answer.
//
// For every op it maps the object to its PG and the PG to its primary under
// the current OSDMap, sends MSG_OSD_OP over a lossy connection, and keeps the
// op until the matching reply arrives. It resends the op (same tid, attempt
// + 1; the OSD dedups writes by client, client_inc and tid) when:
//   - the OSD answers `retry` (it cannot serve the PG in its map yet): after
//     a backoff, or as soon as a newer map arrives;
//   - the connection to the primary resets: after a short backoff, since
//     the OSD may be dead and the map not yet saying so;
//   - a new map changes the PG's up set or primary (an op waiting at an
//     inactive PG is resent to the new interval).
// An op whose PG has no primary waits for a map that gives it one. An op
// completes only with the OSD's answer, ETIMEDOUT after `op_timeout`
// (0: never), ENOENT if its pool disappears, or ESHUTDOWN.
//
// Everything here runs on the messenger's loop thread; no locks.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/event_loop.h"
#include "common/msg/messenger.h"
#include "common/status.h"
#include "crush/crush_map.h"
#include "librados/rados_reply.h"
#include "mon.pb.h"
#include "osd.pb.h"

namespace nacre::rados {

class Objecter {
 public:
  struct Options {
    EventLoop::Duration op_timeout{0};  // 0: wait forever
    EventLoop::Duration backoff_min = std::chrono::milliseconds(50);
    EventLoop::Duration backoff_max = std::chrono::seconds(1);
  };
  // Called once per op: the OSD's decoded reply (status may be an op error),
  // or a local failure (reply == nullptr).
  using Done = std::function<void(Status, const DecodedReply*)>;

  struct Request {
    int64_t pool = -1;
    std::string nspace;
    std::string oid;
    int64_t pg_seed = -1;  // >= 0: this PG (listing), else mapped from oid
    std::vector<proto::OsdSubOp> ops;
    Bytes payload;
    Done done;
  };

  Objecter(msg::Messenger* ms, uint64_t client_inc, Options opts);
  ~Objecter();

  void Submit(Request r);
  void HandleMap(const proto::OSDMapProto& m);
  // True if `m` was an OSD op reply (consumed, even if stale or malformed).
  bool HandleMessage(const msg::ConnectionRef& con, const msg::Message& m);
  void HandleReset(const msg::ConnectionRef& con);
  // Completes everything in flight with ESHUTDOWN and refuses new ops.
  void Shutdown();

  size_t inflight() const { return ops_.size(); }
  uint64_t epoch() const { return map_.epoch(); }
  // Counters for tests and diagnostics.
  uint64_t resends() const { return resends_; }

 private:
  struct Target {
    int osd = -1;
    std::vector<int> up;
    uint32_t seed = 0;
  };
  struct Op {
    uint64_t tid = 0;
    Request req;
    uint32_t attempt = 0;
    bool sent = false;  // a send is outstanding (else waiting for a map or backoff)
    Target target;
    msg::ConnectionRef con;
    EventLoop::TimerId timeout_timer = 0;
    EventLoop::TimerId backoff_timer = 0;
    uint32_t backoffs = 0;  // consecutive, for the exponential delay
  };

  // Where `op` goes under the current map; a Status when it cannot go
  // anywhere ever (pool gone). target.osd < 0: nowhere yet.
  Result<Target> Compute(const Op& op) const;
  void Send(Op& op);
  void ScheduleResend(Op& op, const char* why);
  void Finish(uint64_t tid, Status s, const DecodedReply* reply);
  msg::ConnectionRef ConnectionTo(int osd);

  msg::Messenger* ms_;
  uint64_t client_inc_;
  Options opts_;
  proto::OSDMapProto map_;
  std::unique_ptr<crush::CrushMap> crush_;
  std::string crush_bytes_;  // what crush_ was decoded from
  uint64_t next_tid_ = 1;
  std::map<uint64_t, Op> ops_;
  struct Session {
    msg::ConnectionRef con;
    std::string addr;
  };
  std::map<int, Session> sessions_;
  bool shutdown_ = false;
  uint64_t resends_ = 0;
};

}  // namespace nacre::rados
