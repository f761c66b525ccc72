#include "daemons/mon/subscriptions.h"

#include "common/log.h"
#include "messenger.pb.h"

namespace nacre::mon {

bool MayReceiveAuth(const std::string& peer_name, const proto::AuthMapProto& auth) {
  if (peer_name.rfind("osd.", 0) == 0 || peer_name.rfind("mds.", 0) == 0) return true;
  // An OSD talks to the monitors as its bootstrap entity (it has no osd.N
  // key of its own yet), and it needs every key to admit clients whose keys
  // were made with `auth get-or-create` after its keyring was written.
  auto it = auth.entities().find(peer_name);
  if (it == auth.entities().end()) return false;
  auto cap = it->second.caps().find("mon");
  return cap != it->second.caps().end() &&
         (cap->second == "allow profile bootstrap-osd" || cap->second == "allow profile osd" ||
          cap->second == "allow profile mds");
}

Status Subscriptions::Subscribe(const msg::ConnectionRef& con, const proto::MonSubscribe& sub_in, const ClusterMaps& maps) {
  proto::MonSubscribe sub = sub_in;
  if (sub.auth() && !MayReceiveAuth(con->peer_name(), maps.auth())) {
    // The rest of the subscription stands; only the keys are withheld.
    NLOG(mon, kDebug) << con->peer_name() << " asked for the auth map, which only OSDs and MDSs get; ignored";
    sub.set_auth(false);
  }
  auto it = subs_.find(con.get());
  if (it == subs_.end()) {
    if (subs_.size() >= kMaxSubscribers) return TryAgain("too many subscribers");
    it = subs_.emplace(con.get(), Sub{con, sub}).first;
  } else {
    it->second.want = sub;
  }
  SendUpdates(&it->second, maps, /*always=*/true);
  return Status::OK();
}

void Subscriptions::Publish(const ClusterMaps& maps) {
  for (auto it = subs_.begin(); it != subs_.end();) {
    if (!it->second.con->IsOpen()) {
      it = subs_.erase(it);
      continue;
    }
    SendUpdates(&it->second, maps, /*always=*/false);
    ++it;
  }
}

void Subscriptions::Drop(const msg::ConnectionRef& con) { subs_.erase(con.get()); }

void Subscriptions::SendUpdates(Sub* s, const ClusterMaps& maps, bool always) {
  proto::MonMaps out;
  bool any = false;
  auto& w = s->want;
  const auto& om = maps.osdmap();
  if (w.osdmap() && w.osdmap_have() < om.epoch()) {
    // Incrementals if every one from have+1 is still kept, else the full map.
    const auto& hist = maps.proto().osdmap_history();
    uint64_t first = hist.empty() ? om.epoch() + 1 : hist.Get(0).epoch();
    if (w.osdmap_have() > 0 && w.osdmap_have() + 1 >= first) {
      for (const auto& inc : hist)
        if (inc.epoch() > w.osdmap_have()) *out.add_osdmap_incrementals() = inc;
    } else {
      *out.mutable_osdmap_full() = om;
    }
    w.set_osdmap_have(om.epoch());
    any = true;
  }
  if (w.monmap() && w.monmap_have() < maps.monmap().epoch()) {
    *out.mutable_monmap() = maps.monmap();
    w.set_monmap_have(maps.monmap().epoch());
    any = true;
  }
  if (w.config() && w.config_have() < maps.config().epoch()) {
    *out.mutable_config() = maps.config();
    w.set_config_have(maps.config().epoch());
    any = true;
  }
  if (w.auth() && w.auth_have() < maps.auth().epoch()) {
    *out.mutable_auth() = maps.auth();
    w.set_auth_have(maps.auth().epoch());
    any = true;
  }
  if (w.fsmap() && w.fsmap_have() < maps.fsmap().epoch()) {
    *out.mutable_fsmap() = maps.fsmap();
    w.set_fsmap_have(maps.fsmap().epoch());
    any = true;
  }
  if (!any && !always) return;
  // Maps can outgrow a frame's header limit: they travel as the payload.
  msg::Message m;
  m.type = proto::MSG_MON_MAPS;
  m.payload = Bytes(out.SerializeAsString());
  Status st = s->con->Send(std::move(m));
  if (!st.ok()) NLOG(mon, kDebug) << "map update to " << s->con->peer_name() << ": " << st.ToString();
}

}  // namespace nacre::mon
