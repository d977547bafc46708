#pragma once

// `agora agents`, `agora frameworks`, `agora tasks`: tables (or --json) from
// the master's /state.

#include <string>

#include <nlohmann/json.hpp>

#include "cli.hpp"

namespace agora::cli {

// The tables, from a /state document (pure, for tests).
std::string agentsTable(const nlohmann::json& state);
std::string frameworksTable(const nlohmann::json& state, bool all);
std::string tasksTable(const nlohmann::json& state, bool all);
// The --json forms: the matching arrays of /state.
nlohmann::json agentsJson(const nlohmann::json& state);
nlohmann::json frameworksJson(const nlohmann::json& state, bool all);
nlohmann::json tasksJson(const nlohmann::json& state, bool all);

}  // namespace agora::cli
