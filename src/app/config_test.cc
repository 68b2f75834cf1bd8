// load_config: defaults, then the TOML file, then the environment, then flags; every bad value
// is an error that names its setting and where it came from.
#include "app/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace tajir::app {
namespace {

using ::testing::HasSubstr;

// A command line and an environment, as load_config sees them.
class ConfigTest : public ::testing::Test {
 protected:
  Result<Config> load(std::vector<std::string> args) {
    args.insert(args.begin(), "serve");  // argv[0] is the subcommand
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return load_config(static_cast<int>(argv.size()), argv.data(), [this](const char* name) {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }

  // Writes a TOML file and returns its path.
  std::string file(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "tajir_config_test_" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                       name + ".toml";
    std::ofstream(path) << text;
    return path;
  }

  std::map<std::string, std::string> env_;
};

TEST_F(ConfigTest, NothingSetGivesTheDefaults) {
  auto c = load({});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->db, "sqlite:tajir.db");
  EXPECT_EQ(c->cache_memory, 256ull << 20);
  EXPECT_EQ(c->invalidation, "precise");
  EXPECT_TRUE(c->cache);
}

TEST_F(ConfigTest, FlagsBeatTheEnvironmentWhichBeatsTheFile) {
  const std::string path =
      file("layers", "port = 1001\ndb = \"sqlite:file.db\"\nlog-level = \"warn\"\nthreads = 3\n");
  env_ = {{"TAJIR_PORT", "1002"}, {"TAJIR_DB", "sqlite:env.db"}, {"TAJIR_THREADS", "4"}};

  auto c = load({"--config", path, "--port", "1003"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 1003) << "the flag";
  EXPECT_EQ(c->db, "sqlite:env.db") << "the environment, no flag";
  EXPECT_EQ(c->threads, 4) << "the environment, no flag";
  EXPECT_EQ(c->log_level, "warn") << "the file, nothing else";

  c = load({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 1002) << "the environment beats the file";

  env_.clear();
  c = load({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 1001);
  EXPECT_EQ(c->db, "sqlite:file.db");
}

TEST_F(ConfigTest, TheFileIsNamedByTheFlagOrElseTajirConfig) {
  env_ = {{"TAJIR_CONFIG", file("from_env", "port = 2001\n")}};
  auto c = load({});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 2001);

  c = load({"--config=" + file("from_flag", "port = 2002\n")});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 2002) << "--config replaces TAJIR_CONFIG's file";
}

TEST_F(ConfigTest, FileValuesMayBeStringsIntegersOrBooleans) {
  auto c = load({"--config", file("types",
                                  "cache = false\nport = 9\ncache-memory = \"64MiB\"\n"
                                  "admin-token = \"0123456789abcdef\"\n")});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->cache);
  EXPECT_EQ(c->port, 9);
  EXPECT_EQ(c->cache_memory, 64ull << 20);
  EXPECT_EQ(c->admin_token, "0123456789abcdef");
}

TEST_F(ConfigTest, FlagsTakeTheirValueAfterEqualsOrAsTheNextWord) {
  auto c = load({"--port=3001", "--db", "sqlite:x.db", "--cache=false"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 3001);
  EXPECT_EQ(c->db, "sqlite:x.db");
  EXPECT_FALSE(c->cache);

  c = load({"--port"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("missing value for --port"));
}

// Each bad value, given each of the three ways: the error names the setting and the source.
TEST_F(ConfigTest, ABadValueNamesItsSettingAndWhereItCameFrom) {
  struct Bad {
    std::string setting, value;
  };
  const std::vector<Bad> bad = {
      {"port", "http"},
      {"port", "70000"},
      {"cache-memory", "lots"},
      {"body-limit", "1XB"},
      {"cache-ttl", "-1"},
      {"cache", "maybe"},
      {"invalidation", "lazy"},
      {"admin-token", "short"},
      {"threads", "999"},
      {"log-level", "loud"},
      {"shops", "0"},
      {"seed", "-1"},
      {"login-failures-per-user", "-1"},
      {"registrations-per-address", "many"},
      {"trusted-proxies", "10.0.0.1,proxy.local"},
  };
  for (const Bad& b : bad) {
    std::string var = "TAJIR_" + b.setting;
    for (char& ch : var)
      ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    struct Source {
      std::string origin;
      std::vector<std::string> args;
      std::map<std::string, std::string> env;
    };
    const std::vector<Source> sources = {
        {"flag --" + b.setting, {"--" + b.setting, b.value}, {}},
        {"environment " + var, {}, {{var, b.value}}},
        {"config file", {"--config", file(b.setting, b.setting + " = \"" + b.value + "\"\n")}, {}},
    };
    for (const Source& s : sources) {
      env_ = s.env;
      auto c = load(s.args);
      ASSERT_FALSE(c.ok()) << s.origin << " " << b.setting << "=" << b.value << " was accepted";
      EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(c.status().field(), b.setting);
      EXPECT_THAT(c.status().message(), HasSubstr(b.setting + " "));
      EXPECT_THAT(c.status().message(), HasSubstr(s.origin));
    }
  }
}

TEST_F(ConfigTest, AFileValueOfAnotherTypeNamesItsSetting) {
  auto c = load({"--config", file("array", "port = [1, 2]\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "port");
  EXPECT_THAT(c.status().message(),
              HasSubstr("port must be a string, integer, boolean or list of strings"));
}

TEST_F(ConfigTest, RateLimitsDefaultToOnAndZeroTurnsThemOff) {
  auto c = load({});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->auth_limits.login_failures_per_user, 5);
  EXPECT_EQ(c->auth_limits.login_failures_per_address, 50);
  EXPECT_EQ(c->auth_limits.registrations_per_address, 10);
  EXPECT_TRUE(c->auth_limits.trusted_proxies.empty());

  env_ = {{"TAJIR_LOGIN_FAILURES_PER_ADDRESS", "0"}};
  c = load({"--login-failures-per-user", "0", "--registrations-per-address=3"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->auth_limits.login_failures_per_user, 0);
  EXPECT_EQ(c->auth_limits.login_failures_per_address, 0);
  EXPECT_EQ(c->auth_limits.registrations_per_address, 3);
}

TEST_F(ConfigTest, TrustedProxiesAreAListOfAddressesInAnySpelling) {
  auto c = load({"--trusted-proxies", " 10.0.0.1, ::FFFF:10.0.0.2,::1 "});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->auth_limits.trusted_proxies,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "::1"}));

  c = load({"--config", file("proxies", "trusted-proxies = [\"10.0.0.1\", \"10.0.0.3\"]\n")});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->auth_limits.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.3"}));

  c = load({"--config", file("none", "trusted-proxies = []\n")});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->auth_limits.trusted_proxies.empty());
}

TEST_F(ConfigTest, UnknownFlagsAndFileSettingsAreRefused) {
  auto c = load({"--prot", "8080"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown argument '--prot'"));

  c = load({"8080"});
  ASSERT_FALSE(c.ok()) << "a bare word is no setting";

  c = load({"--config", file("unknown", "prot = 8080\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "config");
  EXPECT_THAT(c.status().message(), HasSubstr("unknown setting 'prot'"));
}

// Only the settings' own variables are read: another TAJIR_ variable may belong to anything
// (a script, a test harness), so it is left alone rather than refused.
TEST_F(ConfigTest, OtherTajirVariablesAreIgnored) {
  env_ = {{"TAJIR_PROT", "8080"}, {"TAJIR_BIN", "/usr/bin/tajir"}};
  auto c = load({});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 8080);
}

TEST_F(ConfigTest, AFileThatDoesNotParseOrOpenIsRefused) {
  auto c = load({"--config", file("broken", "port = \n")});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "config");
  EXPECT_THAT(c.status().message(), HasSubstr("config file"));

  c = load({"--config", ::testing::TempDir() + "tajir_config_test_no_such_file.toml"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "config");
}

TEST_F(ConfigTest, TheEnvironmentIsReadOnlyThroughTheGivenGetenv) {
  ASSERT_EQ(::setenv("TAJIR_PORT", "4001", 1), 0);
  auto c = load({});  // an environment of its own, without TAJIR_PORT
  std::vector<std::string> args = {"serve"};
  std::vector<char*> argv = {args[0].data()};
  auto real = load_config(1, argv.data());  // the process's
  ::unsetenv("TAJIR_PORT");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(real.ok()) << real.status().message();
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(real->port, 4001);
}

TEST(ParseSize, TakesBytesAndBinaryOrDecimalUnits) {
  EXPECT_EQ(parse_size("4096").value(), 4096u);
  EXPECT_EQ(parse_size("256MiB").value(), 256ull << 20);
  EXPECT_EQ(parse_size("1GiB").value(), 1ull << 30);
  EXPECT_EQ(parse_size("512MB").value(), 512'000'000u);
  for (const char* bad : {"", "MiB", "12XB", "1.5GiB", "-1", "20000000000GiB"}) {
    EXPECT_FALSE(parse_size(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tajir::app
