// The human-written forms of a CRUSH map (doc/crush.md describes both):
//
//   text: modeled on Ceph's crushtool text, e.g.
//     type 0 osd
//     type 1 host
//     device 0 osd.0 class hdd weight 1.0
//     host node1 { id -2  alg straw2  item osd.0 }
//     rule data { id 0  type replicated  step take default
//                 step chooseleaf firstn 0 type host  step emit }
//   JSON: the same parts as objects ({"types": [...], "devices": [...],
//     "buckets": [...], "rules": [...]}).
//
// Both parsers accept at most kMaxTextBytes, never throw, and report the
// first problem as one line naming where it is ("line 7: ...",
// "buckets[2]: ..."). The result is a validated map.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "crush/crush_map.h"

namespace nacre::crush {

Result<CrushMap> ParseCrushText(std::string_view text);
Result<CrushMap> ParseCrushJson(std::string_view text);

// Writes a validated map in the text form; ParseCrushText of the result
// gives back an equal map.
std::string FormatCrushText(const CrushMap& map);

}  // namespace nacre::crush
