#include "daemons/mon/osd_monitor.h"

#include <set>

#include "crush/crush_map.h"

namespace nacre::mon {

namespace {

proto::MonUpdate UpdateOf(const ClusterMaps& maps) {
  proto::MonUpdate u;
  u.mutable_osdmap()->set_epoch(maps.osdmap().epoch() + 1);
  return u;
}

void MarkDown(const proto::OsdInfo& cur, uint64_t epoch, int64_t now_ms, proto::MonUpdate* u) {
  proto::OsdInfo o = cur;
  o.set_up(false);
  o.set_down_at(epoch);
  o.set_down_stamp_ms(now_ms);
  *u->mutable_osdmap()->add_ops()->mutable_osd_upsert() = o;
}

}  // namespace

Result<std::string> CrushPlaceOsd(const std::string& crush_bytes, int32_t id, uint32_t weight, const std::string& host,
                                  const std::string& device_class) {
  NACRE_ASSIGN_OR_RETURN(crush::CrushMap old, crush::CrushMap::DecodeFromString(crush_bytes));
  auto host_type = std::find_if(old.types().begin(), old.types().end(), [](const auto& t) { return t.name == "host"; });
  auto root = old.ItemByName("default");
  if (host_type == old.types().end() || !root.ok()) return NotFound("CRUSH map has no host type or default root");
  // Rebuild the map with the device where it belongs: CrushMap has no
  // in-place bucket edits, and a fresh Validate() checks the result whole.
  crush::CrushMap m;
  for (const auto& t : old.types()) m.AddType(t);
  bool have_dev = false;
  for (auto d : old.devices()) {
    if (d.id == id) {
      d.weight = weight;
      if (!device_class.empty()) d.device_class = device_class;
      have_dev = true;
    }
    m.AddDevice(d);
  }
  if (!have_dev) m.AddDevice({id, "osd." + std::to_string(id), device_class, weight});
  // The host bucket: the existing one of that name, or a new one (next free
  // bucket id) listed under the root.
  int32_t host_id = 0, min_id = 0;
  for (const auto& b : old.buckets()) {
    min_id = std::min(min_id, b.id);
    if (b.name == host && b.type == host_type->id) host_id = b.id;
  }
  const bool new_host = host_id == 0;
  if (new_host) host_id = min_id - 1;
  for (auto b : old.buckets()) {
    b.items.erase(std::remove(b.items.begin(), b.items.end(), id), b.items.end());
    if (b.id == host_id) b.items.push_back(id);
    if (new_host && b.id == *root) b.items.push_back(host_id);
    m.AddBucket(b);
  }
  if (new_host) {
    crush::Bucket hb;
    hb.id = host_id;
    hb.name = host;
    hb.type = host_type->id;
    hb.items = {id};
    m.AddBucket(hb);
  }
  for (const auto& r : old.rules()) m.AddRule(r);
  m.set_tunables(old.tunables());
  NACRE_RETURN_IF_ERROR(m.Validate().Annotate("placing osd." + std::to_string(id)));
  return m.EncodeToString();
}

void OsdMonitor::Reset(int64_t now_ms) {
  leader_since_ms_ = now_ms;
  last_beacon_ms_.clear();
  reports_.clear();
}

Result<proto::MonUpdate> OsdMonitor::HandleBoot(const proto::OsdBoot& boot, const ClusterMaps& maps, int64_t now_ms,
                                                int32_t* id) {
  if (boot.uuid().empty() || boot.uuid().size() > 64) return Invalid("boot without a valid uuid");
  if (boot.host().empty() || boot.host().size() > 128) return Invalid("boot without a valid host name");
  const auto& om = maps.osdmap();
  int32_t found = -1;
  for (const auto& [oid, o] : om.osds())
    if (o.uuid() == boot.uuid()) found = oid;
  if (found < 0 && boot.want_id() >= 0 && om.osds().count(boot.want_id()))
    return Exists("osd." + std::to_string(boot.want_id()) + " belongs to another uuid");
  if (found < 0) {
    if (boot.want_id() >= 0) found = boot.want_id();
    else
      for (found = 0; om.osds().count(found); ++found) {
      }
  }
  *id = found;
  proto::OsdInfo o;
  auto it = om.osds().find(found);
  if (it != om.osds().end()) o = it->second;
  bool fresh = it == om.osds().end();
  o.set_id(found);
  o.set_exists(true);
  o.set_uuid(boot.uuid());
  o.set_up(true);
  if (fresh) {
    o.set_in(true);  // new OSDs start in, as with mon_osd_auto_mark_new_in
    o.set_weight(0x10000);
  }
  *o.mutable_addr() = boot.addr();
  o.set_host(boot.host());
  o.set_device_class(boot.device_class());
  o.set_crush_weight(boot.crush_weight() ? boot.crush_weight() : 0x10000);
  o.set_up_from(om.epoch() + 1);
  proto::MonUpdate u = UpdateOf(maps);
  NACRE_ASSIGN_OR_RETURN(std::string crush, CrushPlaceOsd(om.crush(), found, o.crush_weight(), o.host(), o.device_class()));
  if (crush != om.crush()) u.mutable_osdmap()->add_ops()->set_crush_set(crush);
  *u.mutable_osdmap()->add_ops()->mutable_osd_upsert() = o;
  last_beacon_ms_[found] = now_ms;
  reports_.erase(found);
  return u;
}

void OsdMonitor::HandleBeacon(const proto::OsdBeacon& b, int64_t now_ms) { last_beacon_ms_[b.id()] = now_ms; }

std::optional<proto::MonUpdate> OsdMonitor::HandleFailure(const proto::OsdFailureReport& r, const ClusterMaps& maps,
                                                          int64_t now_ms) {
  const proto::OsdInfo* target = maps.Osd(r.target());
  const proto::OsdInfo* reporter = maps.Osd(r.reporter());
  if (!target || !target->up() || r.reporter() == r.target() || !reporter || !reporter->up()) return std::nullopt;
  auto& rep = reports_[r.target()];
  if (r.still_alive()) {
    rep.erase(r.reporter());
    return std::nullopt;
  }
  rep[r.reporter()] = now_ms;
  int fresh = 0;
  for (const auto& [who, when] : rep) fresh += now_ms - when <= opts_.report_timeout_ms;
  if (fresh < opts_.min_down_reporters) return std::nullopt;
  reports_.erase(r.target());
  proto::MonUpdate u = UpdateOf(maps);
  MarkDown(*target, u.osdmap().epoch(), now_ms, &u);
  return u;
}

std::optional<proto::MonUpdate> OsdMonitor::Tick(const ClusterMaps& maps, int64_t now_ms) {
  proto::MonUpdate u = UpdateOf(maps);
  for (const auto& [id, o] : maps.osdmap().osds()) {
    if (o.up()) {
      auto it = last_beacon_ms_.find(id);
      int64_t last = it == last_beacon_ms_.end() ? leader_since_ms_ : std::max(it->second, leader_since_ms_);
      if (now_ms - last > opts_.report_timeout_ms) MarkDown(o, u.osdmap().epoch(), now_ms, &u);
    } else if (o.in() && o.down_stamp_ms() > 0 && now_ms - std::max(o.down_stamp_ms(), leader_since_ms_) >
                                                       opts_.down_out_interval_ms) {
      proto::OsdInfo out = o;
      out.set_in(false);
      out.set_weight(0);
      *u.mutable_osdmap()->add_ops()->mutable_osd_upsert() = out;
    }
  }
  if (u.osdmap().ops_size() == 0) return std::nullopt;
  return u;
}

}  // namespace nacre::mon
