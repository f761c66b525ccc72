#include "daemons/mon/mds_monitor.h"

#include <algorithm>
#include <set>
#include <vector>

#include "common/check.h"
#include "common/log.h"

namespace nacre::mon {

Status ValidMdsName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Invalid("MDS name must be 1..64 characters");
  for (char c : name)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return Invalid("MDS name '" + name + "' has a character other than letters, digits, '_', '-', '.'");
  return Status::OK();
}

void FsMapUpsertMds(proto::FSMapProto* f, const proto::MdsInfo& m, proto::MonUpdate* u) {
  (*f->mutable_mds())[m.name()] = m;
  if (m.gid() > f->gid_max()) f->set_gid_max(m.gid());
  *u->add_fsmap()->mutable_mds_upsert() = m;
}

void FsMapRemoveMds(proto::FSMapProto* f, const std::string& name, proto::MonUpdate* u) {
  f->mutable_mds()->erase(name);
  u->add_fsmap()->set_mds_remove(name);
}

void FsMapUpsertFs(proto::FSMapProto* f, const proto::FilesystemInfo& fs, proto::MonUpdate* u) {
  (*f->mutable_filesystems())[fs.id()] = fs;
  if (fs.id() > f->fs_max()) f->set_fs_max(fs.id());
  *u->add_fsmap()->mutable_fs_upsert() = fs;
}

int AssignRanks(proto::FSMapProto* f, proto::MonUpdate* u) {
  int assigned = 0;
  // Filesystems in id order (a std::map copy: the proto map is unordered).
  std::map<int32_t, proto::FilesystemInfo> fss(f->filesystems().begin(), f->filesystems().end());
  for (auto& [id, fs] : fss) {
    if (fs.not_joinable()) continue;
    std::set<int32_t> wanted(fs.in().begin(), fs.in().end());
    for (int32_t r = 0; r < fs.max_mds(); ++r) wanted.insert(r);
    bool fs_changed = false;
    for (int32_t rank : wanted) {
      bool held = false;
      for (const auto& [n, m] : f->mds()) held |= m.fs_id() == id && m.rank() == rank;
      if (held) continue;
      // The standby registered first (lowest gid): deterministic, so every
      // replay of the same beacons makes the same choice.
      const proto::MdsInfo* pick = nullptr;
      for (const auto& [n, m] : f->mds())
        if (m.rank() < 0 && m.state() == kMdsStandby && (!pick || m.gid() < pick->gid())) pick = &m;
      if (!pick) break;  // no standby left for this or any later rank
      NACRE_CHECK(pick->rank() < 0);
      proto::MdsInfo m = *pick;
      m.set_fs_id(id);
      m.set_rank(rank);
      m.set_state(kMdsReplay);
      NLOG(mon, kInfo) << "assigning rank " << rank << " of fs " << fs.name() << " to mds." << m.name() << " (gid "
                       << m.gid() << ")";
      FsMapUpsertMds(f, m, u);
      ++assigned;
      if (std::find(fs.in().begin(), fs.in().end(), rank) == fs.in().end()) {
        fs.add_in(rank);
        fs_changed = true;
      }
    }
    if (fs_changed) {
      std::sort(fs.mutable_in()->begin(), fs.mutable_in()->end());
      FsMapUpsertFs(f, fs, u);
    }
  }
  return assigned;
}

void MdsMonitor::RecordBeacon(const proto::MdsBeacon& b, int64_t now_ms) {
  if (!ValidMdsName(b.name()).ok()) return;
  MdsStats& s = stats_[b.name()];
  s.incarnation = b.incarnation();
  s.state = b.state();
  s.clients = b.clients();
  s.requests_per_sec = b.requests_per_sec();
  s.cache_bytes = b.cache_bytes();
  s.cache_limit = b.cache_limit();
  s.slow_requests = b.slow_requests();
  s.inodes = b.inodes();
  s.received_ms = now_ms;
}

std::optional<proto::MonUpdate> MdsMonitor::HandleBeacon(const proto::MdsBeacon& b, const ClusterMaps& maps,
                                                         int64_t now_ms) {
  if (Status s = ValidMdsName(b.name()); !s.ok()) {
    NLOG(mon, kWarn) << "MDS beacon dropped: " << s.message();
    return std::nullopt;
  }
  RecordBeacon(b, now_ms);
  proto::FSMapProto f = maps.fsmap();
  proto::MonUpdate u;
  auto it = f.mds().find(b.name());
  if (it == f.mds().end() || it->second.incarnation() != b.incarnation()) {
    if (it != f.mds().end())
      NLOG(mon, kInfo) << "mds." << b.name() << " restarted (incarnation " << it->second.incarnation() << " -> "
                       << b.incarnation() << ")" << (it->second.rank() >= 0 ? "; its rank " + std::to_string(it->second.rank()) + " fails" : "");
    proto::MdsInfo m;
    m.set_name(b.name());
    m.set_fs_id(-1);
    m.set_rank(-1);
    m.set_state(kMdsStandby);
    *m.mutable_addr() = b.addr();
    m.set_incarnation(b.incarnation());
    m.set_gid(f.gid_max() + 1);
    NLOG(mon, kInfo) << "mds." << b.name() << " registered as standby, gid " << m.gid();
    FsMapUpsertMds(&f, m, &u);
  } else {
    const proto::MdsInfo& cur = it->second;
    if (b.state() == kMdsActive && cur.state() == kMdsReplay && b.rank() == cur.rank() && b.fs_id() == cur.fs_id()) {
      proto::MdsInfo m = cur;
      m.set_state(kMdsActive);
      NLOG(mon, kInfo) << "mds." << b.name() << " is active for rank " << m.rank() << " of fs " << m.fs_id();
      FsMapUpsertMds(&f, m, &u);
    } else if (b.addr().host() != cur.addr().host() || b.addr().port() != cur.addr().port()) {
      // Same incarnation, new address (a rebind): clients must find it.
      proto::MdsInfo m = cur;
      *m.mutable_addr() = b.addr();
      FsMapUpsertMds(&f, m, &u);
    }
  }
  AssignRanks(&f, &u);
  if (u.fsmap_size() == 0) return std::nullopt;
  return u;
}

std::optional<proto::MonUpdate> MdsMonitor::Tick(const ClusterMaps& maps, int64_t now_ms) {
  proto::FSMapProto f = maps.fsmap();
  proto::MonUpdate u;
  std::vector<std::string> silent;
  for (const auto& [name, m] : f.mds()) {
    auto st = stats_.find(name);
    // An MDS whose beacon this leader has not seen since it took over (or
    // one from an older incarnation) counts from the takeover.
    int64_t last = leader_since_ms_;
    if (st != stats_.end() && st->second.incarnation == m.incarnation())
      last = std::max(last, st->second.received_ms);
    if (now_ms - last > opts_.beacon_grace_ms) silent.push_back(name);
  }
  for (const auto& name : silent) {
    const proto::MdsInfo& m = f.mds().at(name);
    NLOG(mon, kWarn) << "mds." << name << " (" << m.state() << ", rank " << m.rank() << ") sent no beacon for "
                     << opts_.beacon_grace_ms << " ms; removing it" << (m.rank() >= 0 ? ", its rank fails" : "");
    FsMapRemoveMds(&f, name, &u);
  }
  // A rank of a filesystem that no longer exists is no rank: back to standby.
  std::vector<proto::MdsInfo> orphans;
  for (const auto& [name, m] : f.mds())
    if (m.rank() >= 0 && !f.filesystems().count(m.fs_id())) orphans.push_back(m);
  for (proto::MdsInfo m : orphans) {
    NLOG(mon, kWarn) << "mds." << m.name() << " holds rank " << m.rank() << " of missing fs " << m.fs_id()
                     << "; back to standby";
    m.set_fs_id(-1);
    m.set_rank(-1);
    m.set_state(kMdsStandby);
    m.set_gid(f.gid_max() + 1);
    FsMapUpsertMds(&f, m, &u);
  }
  AssignRanks(&f, &u);
  if (u.fsmap_size() == 0) return std::nullopt;
  return u;
}

void MdsMonitor::Prune(const proto::FSMapProto& fsmap, int64_t now_ms) {
  for (auto it = stats_.begin(); it != stats_.end();) {
    bool known = fsmap.mds().count(it->first) != 0;
    if (!known && now_ms - it->second.received_ms > opts_.beacon_grace_ms) it = stats_.erase(it);
    else ++it;
  }
}

}  // namespace nacre::mon
