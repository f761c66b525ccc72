// RadosImpl: what a Rados instance owns, shared by its IoCtx copies.
// Internal to librados.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/asio_event_loop.h"
#include "common/msg/tcp_messenger.h"
#include "cluster/mon_session.h"
#include "librados/rados.h"
#include "librados/rados_objecter.h"

namespace nacre::rados {

class RadosImpl : public msg::Dispatcher {
 public:
  RadosImpl() = default;
  ~RadosImpl() override;

  Status Start(const Config& config);
  void Shutdown();

  // Runs the request on the loop; completes it with ESHUTDOWN at once when
  // the instance is stopping (so no caller ever waits on a dead loop).
  void Submit(Objecter::Request r);

  // The latest map, for lookups from any thread.
  std::shared_ptr<const proto::OSDMapProto> map() const;
  Status WaitForEpoch(uint64_t epoch, double timeout_secs);

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override;
  void OnReset(const msg::ConnectionRef& con) override;

  std::string entity;

 private:
  void OnMap(const proto::OSDMapProto& m);

  AsioEventLoop loop_;
  std::thread thread_;
  std::unique_ptr<msg::TcpMessenger> ms_;
  std::unique_ptr<monc::MonSession> mons_;
  std::unique_ptr<Objecter> objecter_;

  mutable std::mutex mu_;
  std::condition_variable map_cv_;
  std::shared_ptr<const proto::OSDMapProto> map_ = std::make_shared<proto::OSDMapProto>();
  bool running_ = false;   // the loop thread runs and takes submissions
  bool stopped_ = false;   // Shutdown ran
};

}  // namespace nacre::rados
