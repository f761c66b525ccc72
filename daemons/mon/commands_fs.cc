// `fs new|ls|dump|rm|status`: filesystems in the FSMap. The MDS daemons that
// serve them, and `fs volume ...`, come with the filesystem work; these are
// the map-level commands they build on.
#include <sstream>

#include "daemons/mon/commands.h"

namespace nacre::mon {

namespace {

std::string PoolName(const CommandContext& c, int64_t id) {
  auto it = c.maps.osdmap().pools().find(id);
  return it == c.maps.osdmap().pools().end() ? "#" + std::to_string(id) : it->second.name();
}

const proto::FilesystemInfo* FsByName(const CommandContext& c, const std::string& name) {
  for (const auto& [id, fs] : c.maps.fsmap().filesystems())
    if (fs.name() == name) return &fs;
  return nullptr;
}

nlohmann::json FsJson(const CommandContext& c, const proto::FilesystemInfo& fs) {
  nlohmann::json data = nlohmann::json::array(), data_ids = nlohmann::json::array();
  for (int64_t p : fs.data_pools()) {
    data.push_back(PoolName(c, p));
    data_ids.push_back(p);
  }
  return {{"name", fs.name()},          {"id", fs.id()},
          {"metadata_pool", PoolName(c, fs.metadata_pool())}, {"metadata_pool_id", fs.metadata_pool()},
          {"data_pools", data},         {"data_pool_ids", data_ids},
          {"max_mds", fs.max_mds()}};
}

CommandOutcome FsNew(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "fs_name");
  auto meta = ArgString(r, "metadata");
  auto data = ArgString(r, "data");
  for (const auto* s : {&name.status(), &meta.status(), &data.status()})
    if (!s->ok()) return Fail(*s);
  for (char ch : *name)
    if (!isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-' && ch != '.')
      return Fail(Invalid("filesystem name '" + *name + "' has a character other than letters, digits, '_', '-', '.'"));
  const proto::PoolInfo* mp = c.maps.PoolByName(*meta);
  const proto::PoolInfo* dp = c.maps.PoolByName(*data);
  if (!mp) return Fail(NotFound("pool '" + *meta + "' does not exist"));
  if (!dp) return Fail(NotFound("pool '" + *data + "' does not exist"));
  if (mp->id() == dp->id()) return Fail(Invalid("the metadata and data pools must differ"));
  if (mp->type() == proto::POOL_TYPE_ERASURE)
    return Fail(Invalid("pool '" + *meta + "' (id '" + std::to_string(mp->id()) +
                        "') is an erasure-coded pool; the metadata pool must be replicated"));
  CommandOutcome o;
  if (const proto::FilesystemInfo* existing = FsByName(c, *name)) {
    bool same = existing->metadata_pool() == mp->id() && existing->data_pools_size() > 0 &&
                existing->data_pools(0) == dp->id();
    if (!same) return Fail(Invalid("filesystem '" + *name + "' already exists with other pools"));
    o.text = "filesystem '" + *name + "' already exists";
    o.json = FsJson(c, *existing);
    return o;
  }
  for (const auto& [id, fs] : c.maps.fsmap().filesystems()) {
    bool uses = fs.metadata_pool() == mp->id() || fs.metadata_pool() == dp->id();
    for (int64_t p : fs.data_pools()) uses |= p == mp->id() || p == dp->id();
    if (uses && !ArgFlag(r, "force"))
      return Fail(Invalid("a pool is already used by filesystem '" + fs.name() + "'; use --force to share it"));
  }
  proto::FilesystemInfo fs;
  fs.set_id(c.maps.fsmap().fs_max() + 1);
  fs.set_name(*name);
  fs.set_metadata_pool(mp->id());
  fs.add_data_pools(dp->id());
  fs.set_max_mds(1);
  fs.set_created_epoch(c.maps.fsmap().epoch() + 1);
  *o.update.add_fsmap()->mutable_fs_upsert() = fs;
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
  o.json = FsJson(c, fs);
  return o;
}

CommandOutcome FsLs(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  o.json = nlohmann::json::array();
  std::ostringstream os;
  for (const auto& [id, fs] : c.maps.fsmap().filesystems()) {
    o.json.push_back(FsJson(c, fs));
    os << "name: " << fs.name() << ", metadata pool: " << PoolName(c, fs.metadata_pool()) << ", data pools: [";
    for (int64_t p : fs.data_pools()) os << PoolName(c, p) << " ";
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
    fss.push_back(FsJson(c, fs));
    os << "Filesystem '" << fs.name() << "' (" << id << ")\nmax_mds " << fs.max_mds() << "\nmetadata_pool "
       << fs.metadata_pool() << "\n";
  }
  for (const auto& [name, m] : f.mds()) {
    mds.push_back({{"name", name}, {"fs_id", m.fs_id()}, {"rank", m.rank()}, {"state", m.state()}});
    os << "mds." << name << " rank " << m.rank() << " " << m.state() << "\n";
  }
  o.json = {{"epoch", f.epoch()}, {"filesystems", fss}, {"mds", mds}};
  o.text = os.str();
  return o;
}

CommandOutcome FsRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "fs_name");
  if (!name.ok()) return Fail(name.status());
  const proto::FilesystemInfo* fs = FsByName(c, *name);
  CommandOutcome o;
  if (!fs) return o;  // as Ceph: removing a missing filesystem succeeds
  if (!ArgFlag(r, "yes_i_really_mean_it"))
    return Fail(PermissionDenied("this command will destroy filesystem '" + *name +
                                 "'; pass --yes-i-really-mean-it if you are sure"));
  for (const auto& [n, m] : c.maps.fsmap().mds())
    if (m.fs_id() == fs->id() && m.rank() >= 0)
      return Fail(Invalid("all MDS daemons must be inactive (mds." + n + " holds rank " + std::to_string(m.rank()) +
                          ") before removing filesystem '" + *name + "'"));
  o.update.add_fsmap()->set_fs_remove(fs->id());
  return o;
}

CommandOutcome FsStatus(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  nlohmann::json arr = nlohmann::json::array();
  std::ostringstream os;
  for (const auto& [id, fs] : c.maps.fsmap().filesystems()) {
    int active = 0;
    for (const auto& [n, m] : c.maps.fsmap().mds()) active += m.fs_id() == id && m.rank() >= 0;
    nlohmann::json j = FsJson(c, fs);
    j["active_ranks"] = active;
    arr.push_back(j);
    os << fs.name() << " - " << active << " active of " << fs.max_mds() << " ranks\n";
    os << "  metadata pool " << PoolName(c, fs.metadata_pool()) << ", data pools";
    for (int64_t p : fs.data_pools()) os << " " << PoolName(c, p);
    os << "\n";
  }
  int standby = 0;
  for (const auto& [n, m] : c.maps.fsmap().mds()) standby += m.rank() < 0;
  os << "standby MDS: " << standby << "\n";
  o.json = {{"filesystems", arr}, {"standbys", standby}};
  o.text = os.str();
  return o;
}

}  // namespace

void AddFsCommands(CommandTable* t) {
  (*t)["fs new"] = {true, FsNew};
  (*t)["fs ls"] = {false, FsLs};
  (*t)["fs dump"] = {false, FsDump};
  (*t)["fs rm"] = {true, FsRm};
  (*t)["fs status"] = {false, FsStatus};
}

}  // namespace nacre::mon
