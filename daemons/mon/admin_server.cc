#include "daemons/mon/admin_server.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>

#include "admin.grpc.pb.h"
#include "common/log.h"

namespace nacre::mon {

// Requests larger than this are refused by gRPC before reaching a handler.
constexpr int kMaxAdminMessageBytes = 4 << 20;

class AdminServer::Service final : public proto::MonAdmin::Service {
 public:
  explicit Service(CommandHandlerFn fn) : fn_(std::move(fn)) {}
  grpc::Status Command(grpc::ServerContext*, const proto::CommandRequest* req, proto::CommandReply* reply) override {
    *reply = fn_(*req);
    return grpc::Status::OK;
  }

 private:
  CommandHandlerFn fn_;
};

AdminServer::AdminServer(CommandHandlerFn handler) : service_(std::make_unique<Service>(std::move(handler))) {}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start(const std::string& host, uint16_t port) {
  grpc::ServerBuilder b;
  int selected = 0;
  b.AddListeningPort(host + ":" + std::to_string(port), grpc::InsecureServerCredentials(), &selected);
  b.RegisterService(service_.get());
  b.SetMaxReceiveMessageSize(kMaxAdminMessageBytes);
  server_ = b.BuildAndStart();
  if (!server_ || selected == 0) return IOError("admin: cannot listen on " + host + ":" + std::to_string(port));
  port_ = static_cast<uint16_t>(selected);
  NLOG(admin, kInfo) << "admin API on " << host << ":" << port_;
  return Status::OK();
}

void AdminServer::Stop() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
}

namespace {

// One channel per leader address, kept: a forward then costs one RPC, not a
// new TCP and HTTP/2 handshake. The set of monitors is small and fixed.
std::shared_ptr<grpc::Channel> ChannelTo(const std::string& addr) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::lock_guard<std::mutex> g(mu);
  auto& ch = channels[addr];
  if (!ch) ch = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  return ch;
}

}  // namespace

Result<proto::CommandReply> CallAdmin(const std::string& addr, const proto::CommandRequest& req, int64_t deadline_ms) {
  auto channel = ChannelTo(addr);
  auto stub = proto::MonAdmin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  proto::CommandReply reply;
  grpc::Status s = stub->Command(&ctx, req, &reply);
  if (!s.ok()) return TryAgain("forward to " + addr + " failed: " + s.error_message());
  return reply;
}

}  // namespace nacre::mon
