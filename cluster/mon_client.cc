#include "cluster/mon_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <random>
#include <thread>

#include "admin.grpc.pb.h"
#include "cluster/admin_auth.h"
#include "common/clock.h"

namespace nacre::monc {

msg::EntityAddr AdminAddrOf(const msg::EntityAddr& a) { return {a.host, static_cast<uint16_t>(a.port + 1)}; }

Result<std::vector<msg::EntityAddr>> ParseMonHost(const std::string& mon_host) {
  std::vector<msg::EntityAddr> out;
  size_t pos = 0;
  while (pos <= mon_host.size()) {
    size_t comma = mon_host.find_first_of(", ", pos);
    std::string part = mon_host.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) {
      auto a = msg::EntityAddr::Parse(part);
      if (!a.ok()) return a.status().Annotate("mon_host");
      out.push_back(*a);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) return Invalid("no monitors: set mon_host in the config or pass -m HOST:PORT[,...]");
  return out;
}

MonClient::MonClient(std::vector<msg::EntityAddr> mons, std::string entity, std::string secret)
    : mons_(std::move(mons)), entity_(std::move(entity)), secret_(std::move(secret)) {}

Result<proto::CommandReply> MonClient::Command(proto::CommandRequest req, double timeout_secs) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_secs * 1000));
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  // gRPC backs off a second or more after a refused connection; a monitor
  // that is starting or restarting is back much sooner than that.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto make_channel = [&](size_t i) {
    return grpc::CreateCustomChannel(AdminAddrOf(mons_[i]).ToString(), grpc::InsecureChannelCredentials(), args);
  };
  for (size_t i = 0; i < mons_.size(); ++i) channels.push_back(make_channel(i));
  // Start at a random monitor so clients spread their load.
  size_t start = std::random_device{}() % mons_.size();
  std::string last_error = "no monitor answered";
  for (int round = 0;; ++round) {
    for (size_t i = 0; i < mons_.size(); ++i) {
      size_t idx = (start + i) % mons_.size();
      auto now = Clock::now();
      if (now >= deadline) break;
      // Each attempt gets a slice of the time left so one dead monitor
      // cannot eat the whole budget.
      auto slice = std::min<Clock::duration>(deadline - now, std::chrono::seconds(3));
      int64_t wall_ms = WallClockMs();
      SignCommand(entity_, secret_, wall_ms, &req);
      grpc::ClientContext gctx;
      // gRPC takes system_clock deadlines.
      gctx.set_deadline(std::chrono::system_clock::now() + slice);
      gctx.set_wait_for_ready(false);
      proto::CommandReply reply;
      auto stub = proto::MonAdmin::NewStub(channels[idx]);
      grpc::Status gs = stub->Command(&gctx, req, &reply);
      if (!gs.ok()) {
        last_error = "mon at " + mons_[idx].ToString() + ": " + gs.error_message();
        // A fresh channel tries again at once instead of waiting out the
        // failed one's reconnect backoff (a monitor may be just starting).
        channels[idx] = make_channel(idx);
        continue;
      }
      if (reply.status().code() == static_cast<int>(Code::kAgain)) {
        // Not in quorum, or the leader is changing: try another monitor.
        last_error = reply.status().message();
        continue;
      }
      return reply;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (round + 1), 500)));
  }
  return TimedOut("no monitor quorum reachable within " + std::to_string(static_cast<int>(timeout_secs)) +
                  " s (" + last_error + ")");
}

}  // namespace nacre::monc
