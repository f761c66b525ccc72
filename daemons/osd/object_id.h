// ObjectId: how the OSD names an object inside a PG's collection (namespace
// and name; the pool and PG are the collection). Both the PG core (pg/) and
// the object store (store/) use it, and neither includes the other, so it
// lives here, beside them.
#pragma once

#include <compare>
#include <string>

namespace nacre::osd {

struct ObjectId {
  std::string ns;    // namespace; "" is the default one
  std::string name;
  auto operator<=>(const ObjectId&) const = default;
};

}  // namespace nacre::osd
