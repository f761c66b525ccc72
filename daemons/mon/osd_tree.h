// `osd tree`: the CRUSH hierarchy with each OSD's up/down, reweight and
// class, as Ceph prints it (ID CLASS WEIGHT TYPE NAME STATUS REWEIGHT).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/status.h"
#include "mon.pb.h"

namespace nacre::mon {

Status RenderOsdTree(const proto::OSDMapProto& m, nlohmann::json* json, std::string* text);

}  // namespace nacre::mon
