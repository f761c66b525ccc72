// Filesystem commands that change the FSMap: `fs new|ls|dump|rm|fail|set`
// and the volumes grammar `fs volume create|ls|rm` (Ceph's mgr volumes
// module: a volume is a filesystem with its own two pools). `fs status` and
// `mds stat` are in commands_fs_status.cc.
//
// Every write is idempotent (the CLI retries after a leader change) and
// whole: `fs volume create` commits its two pools and the filesystem in one
// MonUpdate, so nobody ever sees half a volume. Ranks are handed to standbys
// in the same update where a command makes them wanted (AssignRanks).
#include <set>
#include <sstream>

#include "daemons/mon/commands_fs_common.h"

namespace nacre::mon {

namespace {

constexpr int32_t kMaxMds = 256;

Status ValidFsName(const std::string& name) {
  if (name.empty() || name.size() > 100) return Invalid("filesystem name must be 1..100 characters");
  for (char ch : name)
    if (!isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-' && ch != '.')
      return Invalid("filesystem name '" + name + "' has a character other than letters, digits, '_', '-', '.'");
  return Status::OK();
}

// The filesystem `fs new` and `fs volume create` add.
proto::FilesystemInfo NewFs(const ClusterMaps& maps, const std::string& name, int64_t meta, int64_t data) {
  proto::FilesystemInfo fs;
  fs.set_id(maps.fsmap().fs_max() + 1);
  fs.set_name(name);
  fs.set_metadata_pool(meta);
  fs.add_data_pools(data);
  fs.set_max_mds(1);
  fs.set_created_epoch(maps.fsmap().epoch() + 1);
  return fs;
}

// Adds the filesystem, and gives its rank 0 to a standby if there is one.
void AddFs(const ClusterMaps& maps, const proto::FilesystemInfo& fs, proto::MonUpdate* u) {
  proto::FSMapProto f = maps.fsmap();
  FsMapUpsertFs(&f, fs, u);
  AssignRanks(&f, u);
}

CommandOutcome FsNew(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "fs_name");
  auto meta = ArgString(r, "metadata");
  auto data = ArgString(r, "data");
  for (const auto* s : {&name.status(), &meta.status(), &data.status()})
    if (!s->ok()) return Fail(*s);
  if (Status s = ValidFsName(*name); !s.ok()) return Fail(s);
  const proto::PoolInfo* mp = c.maps.PoolByName(*meta);
  const proto::PoolInfo* dp = c.maps.PoolByName(*data);
  if (!mp) return Fail(NotFound("pool '" + *meta + "' does not exist"));
  if (!dp) return Fail(NotFound("pool '" + *data + "' does not exist"));
  if (mp->id() == dp->id()) return Fail(Invalid("the metadata and data pools must differ"));
  if (mp->type() == proto::POOL_TYPE_ERASURE)
    return Fail(Invalid("pool '" + *meta + "' (id '" + std::to_string(mp->id()) +
                        "') is an erasure-coded pool; the metadata pool must be replicated"));
  CommandOutcome o;
  if (const proto::FilesystemInfo* existing = FsByName(c.maps.fsmap(), *name)) {
    bool same = existing->metadata_pool() == mp->id() && existing->data_pools_size() > 0 &&
                existing->data_pools(0) == dp->id();
    if (!same) return Fail(Invalid("filesystem '" + *name + "' already exists with other pools"));
    o.text = "filesystem '" + *name + "' already exists";
    o.json = FsJson(c.maps, *existing);
    return o;
  }
  for (const auto& [id, fs] : c.maps.fsmap().filesystems()) {
    bool uses = fs.metadata_pool() == mp->id() || fs.metadata_pool() == dp->id();
    for (int64_t p : fs.data_pools()) uses |= p == mp->id() || p == dp->id();
    if (uses && !ArgFlag(r, "force"))
      return Fail(Invalid("a pool is already used by filesystem '" + fs.name() + "'; use --force to share it"));
  }
  proto::FilesystemInfo fs = NewFs(c.maps, *name, mp->id(), dp->id());
  AddFs(c.maps, fs, &o.update);
  // The pools now belong to a filesystem, as Ceph's application tags say.
  for (const proto::PoolInfo* p : {mp, dp}) {
    if (p->application() == "cephfs") continue;
    proto::PoolInfo tagged = *p;
    tagged.set_application("cephfs");
    auto* inc = o.update.mutable_osdmap();
    inc->set_epoch(c.maps.osdmap().epoch() + 1);
    *inc->add_ops()->mutable_pool_upsert() = tagged;
  }
  o.text = "new fs with metadata pool " + std::to_string(mp->id()) + " and data pool " + std::to_string(dp->id());
  o.json = FsJson(c.maps, fs);
  return o;
}

CommandOutcome FsLs(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  o.json = nlohmann::json::array();
  std::ostringstream os;
  for (const auto& [id, fs] : c.maps.fsmap().filesystems()) {
    o.json.push_back(FsJson(c.maps, fs));
    os << "name: " << fs.name() << ", metadata pool: " << PoolName(c.maps, fs.metadata_pool()) << ", data pools: [";
    for (int64_t p : fs.data_pools()) os << PoolName(c.maps, p) << " ";
    os << "]\n";
  }
  if (c.maps.fsmap().filesystems().empty()) os << "No filesystems enabled\n";
  o.text = os.str();
  return o;
}

CommandOutcome FsDump(const proto::CommandRequest&, const CommandContext& c) {
  const auto& f = c.maps.fsmap();
  CommandOutcome o;
  nlohmann::json fss = nlohmann::json::array(), mds = nlohmann::json::array();
  std::ostringstream os;
  os << "e" << f.epoch() << "\n";
  for (const auto& [id, fs] : f.filesystems()) {
    fss.push_back(FsJson(c.maps, fs));
    os << "Filesystem '" << fs.name() << "' (" << id << ")\nmax_mds " << fs.max_mds() << "\nin";
    for (int32_t r : fs.in()) os << " " << r;
    os << "\nmetadata_pool " << fs.metadata_pool() << "\njoinable " << (fs.not_joinable() ? "false" : "true") << "\n";
  }
  for (const auto& [name, m] : std::map<std::string, proto::MdsInfo>(f.mds().begin(), f.mds().end())) {
    mds.push_back(MdsJson(m));
    os << "[mds." << name << "{" << m.fs_id() << ":" << m.rank() << "} state " << m.state() << " gid " << m.gid()
       << " addr " << m.addr().host() << ":" << m.addr().port() << "]\n";
  }
  o.json = {{"epoch", f.epoch()}, {"filesystems", fss}, {"mds", mds}};
  o.text = os.str();
  return o;
}

// Every MDS serving `fs_id` back to standby (in a working copy and `u`),
// each as a new registration (a new gid): an MDS whose gid changed lost the
// assignment it was serving, even if a later map (coalesced with this one)
// hands it the same rank again, and must stop and replay afresh.
void DropRanks(proto::FSMapProto* f, int32_t fs_id, proto::MonUpdate* u) {
  std::vector<proto::MdsInfo> holders;
  for (const auto& [n, m] : f->mds())
    if (m.fs_id() == fs_id) holders.push_back(m);
  for (proto::MdsInfo m : holders) {
    m.set_fs_id(-1);
    m.set_rank(-1);
    m.set_state(kMdsStandby);
    m.set_gid(f->gid_max() + 1);
    FsMapUpsertMds(f, m, u);
  }
}

CommandOutcome FsRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "fs_name");
  if (!name.ok()) return Fail(name.status());
  const proto::FilesystemInfo* fs = FsByName(c.maps.fsmap(), *name);
  CommandOutcome o;
  if (!fs) return o;  // as Ceph: removing a missing filesystem succeeds
  if (!ArgFlag(r, "yes_i_really_mean_it"))
    return Fail(PermissionDenied("this command will destroy filesystem '" + *name +
                                 "'; pass --yes-i-really-mean-it if you are sure"));
  for (const auto& [n, m] : c.maps.fsmap().mds())
    if (m.fs_id() == fs->id() && m.rank() >= 0)
      return Fail(Invalid("all MDS daemons must be inactive (mds." + n + " holds rank " + std::to_string(m.rank()) +
                          ") before removing filesystem '" + *name + "'; run `fs fail " + *name + "` first"));
  o.update.add_fsmap()->set_fs_remove(fs->id());
  return o;
}

CommandOutcome FsFail(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "fs_name");
  if (!name.ok()) return Fail(name.status());
  const proto::FilesystemInfo* cur = FsByName(c.maps.fsmap(), *name);
  if (!cur) return Fail(NotFound("filesystem '" + *name + "' does not exist"));
  CommandOutcome o;
  proto::FSMapProto f = c.maps.fsmap();
  if (!cur->not_joinable()) {
    proto::FilesystemInfo fs = *cur;
    fs.set_not_joinable(true);
    FsMapUpsertFs(&f, fs, &o.update);
  }
  DropRanks(&f, cur->id(), &o.update);
  o.text = "fs:" + *name + " marked not joinable; MDS cannot join the cluster. All MDS ranks marked failed.";
  o.json = FsJson(c.maps, f.filesystems().at(cur->id()));
  return o;
}

CommandOutcome FsSet(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "fs_name");
  if (!name.ok()) return Fail(name.status());
  auto var = ArgString(r, "var");
  if (!var.ok()) return Fail(var.status());
  auto val = ArgString(r, "val");
  if (!val.ok()) return Fail(val.status());
  const proto::FilesystemInfo* cur = FsByName(c.maps.fsmap(), *name);
  if (!cur) return Fail(NotFound("filesystem '" + *name + "' does not exist"));
  proto::FilesystemInfo fs = *cur;
  if (*var == "max_mds") {
    auto v = ArgInt(r, "val", 1, kMaxMds);
    if (!v.ok()) return Fail(Invalid("max_mds must be an integer 1.." + std::to_string(kMaxMds) + ", got '" + *val + "'"));
    fs.set_max_mds(static_cast<int32_t>(*v));
  } else if (*var == "standby_count_wanted") {
    auto v = ArgInt(r, "val", 0, 1000);
    if (!v.ok()) return Fail(Invalid("standby_count_wanted must be an integer 0..1000, got '" + *val + "'"));
    fs.set_standby_count_wanted(static_cast<int32_t>(*v));
  } else if (*var == "joinable") {
    if (*val != "true" && *val != "false" && *val != "1" && *val != "0")
      return Fail(Invalid("joinable must be true or false, got '" + *val + "'"));
    fs.set_not_joinable(*val == "false" || *val == "0");
  } else {
    return Fail(Invalid("unknown variable '" + *var + "' (max_mds, standby_count_wanted, joinable)"));
  }
  CommandOutcome o;
  o.json = FsJson(c.maps, fs);
  if (fs.SerializeAsString() == cur->SerializeAsString()) return o;  // nothing changes
  proto::FSMapProto f = c.maps.fsmap();
  FsMapUpsertFs(&f, fs, &o.update);
  AssignRanks(&f, &o.update);
  o.text = "set fs " + *name + " " + *var + " to " + *val;
  return o;
}

// ---- volumes ----------------------------------------------------------------

std::string MetaPoolName(const std::string& vol) { return "cephfs." + vol + ".meta"; }
std::string DataPoolName(const std::string& vol) { return "cephfs." + vol + ".data"; }

CommandOutcome VolumeCreate(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "name");
  if (!name.ok()) return Fail(name.status());
  if (Status s = ValidFsName(*name); !s.ok()) return Fail(s);
  CommandOutcome o;
  if (const proto::FilesystemInfo* existing = FsByName(c.maps.fsmap(), *name)) {
    o.text = "volume '" + *name + "' already exists";
    o.json = FsJson(c.maps, *existing);
    return o;
  }
  // The pools, as `osd pool create NAME` would make them (an existing pool
  // of that name is reused, as Ceph's volumes module does).
  int64_t next_id = c.maps.osdmap().pool_max();
  int64_t ids[2];
  const std::string names[2] = {MetaPoolName(*name), DataPoolName(*name)};
  for (int i = 0; i < 2; ++i) {
    if (const proto::PoolInfo* p = c.maps.PoolByName(names[i])) {
      if (i == 0 && p->type() == proto::POOL_TYPE_ERASURE)
        return Fail(Invalid("pool '" + names[i] + "' exists and is erasure-coded; the metadata pool must be replicated"));
      for (const auto& [id, fs] : c.maps.fsmap().filesystems()) {
        bool uses = fs.metadata_pool() == p->id();
        for (int64_t d : fs.data_pools()) uses |= d == p->id();
        if (uses) return Fail(Invalid("pool '" + names[i] + "' is already used by filesystem '" + fs.name() + "'"));
      }
      ids[i] = p->id();
      continue;
    }
    proto::CommandRequest pr;
    (*pr.mutable_args())["pool"] = names[i];
    (*pr.mutable_args())["application"] = "cephfs";
    auto pool = MakePool(pr, c.maps);
    if (!pool.ok()) return Fail(pool.status());
    pool->set_id(++next_id);
    pool->set_created_epoch(c.maps.osdmap().epoch() + 1);
    ids[i] = pool->id();
    auto* inc = o.update.mutable_osdmap();
    inc->set_epoch(c.maps.osdmap().epoch() + 1);
    *inc->add_ops()->mutable_pool_upsert() = *pool;
  }
  proto::FilesystemInfo fs = NewFs(c.maps, *name, ids[0], ids[1]);
  AddFs(c.maps, fs, &o.update);
  o.text = "volume '" + *name + "' created with pools " + names[0] + " and " + names[1];
  o.json = {{"name", *name}, {"id", fs.id()}, {"metadata_pool", names[0]}, {"data_pool", names[1]}};
  return o;
}

CommandOutcome VolumeLs(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  o.json = nlohmann::json::array();
  for (const auto& [id, fs] : std::map<int32_t, proto::FilesystemInfo>(c.maps.fsmap().filesystems().begin(),
                                                                     c.maps.fsmap().filesystems().end())) {
    o.json.push_back({{"name", fs.name()}});
  }
  // Ceph prints the JSON list in plain mode too.
  o.text = o.json.dump(4) + "\n";
  return o;
}

CommandOutcome VolumeRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "name");
  if (!name.ok()) return Fail(name.status());
  const proto::FilesystemInfo* fs = FsByName(c.maps.fsmap(), *name);
  CommandOutcome o;
  if (!fs) return Fail(NotFound("volume '" + *name + "' does not exist"));
  if (!ArgFlag(r, "yes_i_really_mean_it"))
    return Fail(PermissionDenied("this will permanently delete volume '" + *name +
                                 "' and its pools; pass --yes-i-really-mean-it if you are sure"));
  // Fail it (its MDSs become standbys), then remove it and its pools, in
  // one update: no MDS ever holds a rank of a filesystem without pools.
  proto::FSMapProto f = c.maps.fsmap();
  DropRanks(&f, fs->id(), &o.update);
  o.update.add_fsmap()->set_fs_remove(fs->id());
  std::set<int64_t> pools(fs->data_pools().begin(), fs->data_pools().end());
  pools.insert(fs->metadata_pool());
  // A pool another filesystem shares (fs new --force) stays.
  for (const auto& [id, other] : c.maps.fsmap().filesystems()) {
    if (id == fs->id()) continue;
    pools.erase(other.metadata_pool());
    for (int64_t p : other.data_pools()) pools.erase(p);
  }
  std::vector<std::string> removed;
  for (int64_t p : pools) {
    if (!c.maps.osdmap().pools().count(p)) continue;
    auto* inc = o.update.mutable_osdmap();
    inc->set_epoch(c.maps.osdmap().epoch() + 1);
    inc->add_ops()->set_pool_remove(p);
    removed.push_back(PoolName(c.maps, p));
  }
  f.mutable_filesystems()->erase(fs->id());
  AssignRanks(&f, &o.update);  // the freed MDSs may serve another filesystem
  o.text = "volume '" + *name + "' removed";
  o.json = {{"name", *name}, {"removed_pools", removed}};
  return o;
}

}  // namespace

void AddFsCommands(CommandTable* t) {
  (*t)["fs new"] = {true, FsNew};
  (*t)["fs ls"] = {false, FsLs};
  (*t)["fs dump"] = {false, FsDump};
  (*t)["fs rm"] = {true, FsRm};
  (*t)["fs fail"] = {true, FsFail};
  (*t)["fs set"] = {true, FsSet};
  (*t)["fs volume create"] = {true, VolumeCreate};
  (*t)["fs volume ls"] = {false, VolumeLs};
  (*t)["fs volume rm"] = {true, VolumeRm};
  AddFsStatusCommands(t);
}

}  // namespace nacre::mon
