// AdminServer: the monitor's gRPC admin endpoint (proto/admin.proto).
//
// gRPC runs its own threads; each Command call is handed to `handler`, which
// the monitor implements by posting to its event loop and waiting for the
// answer, so all map logic stays single-threaded on the loop.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "admin.pb.h"
#include "common/status.h"

namespace grpc {
class Server;
}

namespace nacre::mon {

using CommandHandlerFn = std::function<proto::CommandReply(const proto::CommandRequest&)>;

class AdminServer {
 public:
  explicit AdminServer(CommandHandlerFn handler);
  ~AdminServer();

  // Listens on host:port (port 0 picks a free one).
  Status Start(const std::string& host, uint16_t port);
  void Stop();
  uint16_t port() const { return port_; }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
};

// Calls a monitor's admin endpoint directly (used to forward writes from a
// peon to the leader). Deadline in milliseconds.
Result<proto::CommandReply> CallAdmin(const std::string& addr, const proto::CommandRequest& req, int64_t deadline_ms);

}  // namespace nacre::mon
