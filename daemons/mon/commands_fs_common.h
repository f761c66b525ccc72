// Small helpers shared by the filesystem command files (commands_fs*.cc):
// lookups by name and the JSON shape of a filesystem.
#pragma once

#include <string>

#include "daemons/mon/commands.h"

namespace nacre::mon {

inline std::string PoolName(const ClusterMaps& maps, int64_t id) {
  auto it = maps.osdmap().pools().find(id);
  return it == maps.osdmap().pools().end() ? "#" + std::to_string(id) : it->second.name();
}

inline const proto::FilesystemInfo* FsByName(const proto::FSMapProto& f, const std::string& name) {
  for (const auto& [id, fs] : f.filesystems())
    if (fs.name() == name) return &fs;
  return nullptr;
}

inline nlohmann::json FsJson(const ClusterMaps& maps, const proto::FilesystemInfo& fs) {
  nlohmann::json data = nlohmann::json::array(), data_ids = nlohmann::json::array();
  for (int64_t p : fs.data_pools()) {
    data.push_back(PoolName(maps, p));
    data_ids.push_back(p);
  }
  nlohmann::json in = nlohmann::json::array();
  for (int32_t r : fs.in()) in.push_back(r);
  return {{"name", fs.name()},
          {"id", fs.id()},
          {"metadata_pool", PoolName(maps, fs.metadata_pool())},
          {"metadata_pool_id", fs.metadata_pool()},
          {"data_pools", data},
          {"data_pool_ids", data_ids},
          {"max_mds", fs.max_mds()},
          {"in", in},
          {"joinable", !fs.not_joinable()},
          {"standby_count_wanted", fs.standby_count_wanted()}};
}

inline nlohmann::json MdsJson(const proto::MdsInfo& m) {
  return {{"name", m.name()},   {"gid", m.gid()},
          {"fs_id", m.fs_id()}, {"rank", m.rank()},
          {"state", m.state()}, {"addr", m.addr().host() + ":" + std::to_string(m.addr().port())},
          {"incarnation", m.incarnation()}};
}

}  // namespace nacre::mon
