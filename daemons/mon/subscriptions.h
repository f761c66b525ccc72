// Subscriptions: daemons and clients that follow the cluster maps.
//
// A subscriber sends MonSubscribe with the epochs it holds; it is sent what
// it lacks at once (an empty MonMaps if nothing: the answer doubles as a
// keepalive for the subscriber) and again after every commit, for as long as
// its connection lives. OSDMap changes go out as incrementals when the monitor
// still has them (ClusterMaps keeps recent ones), as a full map otherwise.
// The FSMap goes whole to any authenticated subscriber that asks (MDSs
// learn their ranks from it, filesystem clients their MDS addresses).
// The Auth map holds every entity's secret: it goes only to subscribers
// the messenger authenticated as "osd.*" or "mds.*", or as an entity whose
// mon cap is an OSD's or MDS's profile (an OSD subscribes as
// client.bootstrap-osd) (MayReceiveAuth), which need it to check their own
// clients; anyone else asking is ignored.
// Per-subscriber state is a few integers; the number of subscribers is
// bounded (kMaxSubscribers) so a flood of connections cannot grow it without
// limit.
#pragma once

#include <map>

#include "common/msg/messenger.h"
#include "daemons/mon/cluster_maps.h"
#include "mon.pb.h"

namespace nacre::mon {

inline constexpr size_t kMaxSubscribers = 8192;

// True for peers entitled to the Auth map: OSD and MDS daemons.
bool MayReceiveAuth(const std::string& peer_name, const proto::AuthMapProto& auth);

class Subscriptions {
 public:
  // Records (or updates) con's subscription and sends what it lacks.
  Status Subscribe(const msg::ConnectionRef& con, const proto::MonSubscribe& sub, const ClusterMaps& maps);
  // Sends every subscriber what changed; call after each applied commit.
  void Publish(const ClusterMaps& maps);
  void Drop(const msg::ConnectionRef& con);
  size_t size() const { return subs_.size(); }

 private:
  struct Sub {
    msg::ConnectionRef con;
    proto::MonSubscribe want;  // *_have advance as we send
  };
  // `always`: answer even when nothing is new (an empty MonMaps), so a
  // subscriber that re-subscribes can tell a live monitor from a dead one.
  void SendUpdates(Sub* s, const ClusterMaps& maps, bool always);

  std::map<const msg::Connection*, Sub> subs_;
};

}  // namespace nacre::mon
