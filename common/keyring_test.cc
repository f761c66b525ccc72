#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/keyring.h"

using namespace nacre;

TEST_CASE("generated keys are 32 random bytes in base64", "[keyring]") {
  std::string a = GenerateKey(), b = GenerateKey();
  CHECK(a != b);
  auto dec = Base64Decode(a);
  REQUIRE(dec.ok());
  CHECK(dec->size() == kKeyBytes);
  CHECK(Base64Encode(*dec) == a);
}

TEST_CASE("keyring parses Ceph's format with caps", "[keyring]") {
  std::string key = GenerateKey();
  auto kr = Keyring::Parse("[client.admin]\n\tkey = " + key +
                           "\n\tcaps mon = \"allow *\"\n\tcaps osd = \"allow rw pool=data\"\n");
  REQUIRE(kr.ok());
  const KeyEntry* e = kr->Get("client.admin");
  REQUIRE(e);
  CHECK(e->key_b64 == key);
  CHECK(e->secret.size() == kKeyBytes);
  CHECK(e->caps.at("mon") == "allow *");
  CHECK(e->caps.at("osd") == "allow rw pool=data");
  CHECK(kr->Get("osd.0") == nullptr);
}

TEST_CASE("keyring rejects bad input with a reason", "[keyring]") {
  CHECK(Keyring::Parse("[osd.1]\n").ok());  // an empty section is ignored
  CHECK(Keyring::Parse("[osd.1]\nkey = not*base64\n").status().code() == Code::kInvalid);
  CHECK(Keyring::Parse("[osd.1]\ncolour = blue\n").status().message().find("unknown field") != std::string::npos);
  CHECK_FALSE(Keyring::Parse("[osd.1\nkey = AAAA\n").ok());
}

TEST_CASE("keyring saves with mode 0600 and round-trips", "[keyring]") {
  char dir[] = "/tmp/nacre-keyring-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string path = std::string(dir) + "/keyring";
  Keyring kr;
  KeyEntry e;
  e.entity = "mon.a";
  e.key_b64 = GenerateKey();
  e.caps["mon"] = "allow *";
  REQUIRE(kr.Add(e).ok());
  REQUIRE(kr.Save(path).ok());
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto back = Keyring::Load(path);
  REQUIRE(back.ok());
  REQUIRE(back->Get("mon.a"));
  CHECK(back->Get("mon.a")->key_b64 == e.key_b64);
  CHECK(back->Get("mon.a")->caps.at("mon") == "allow *");
  unlink(path.c_str());
  rmdir(dir);
}
