#pragma once

// How a CommandInfo becomes a process, shared by a task's command and the
// COMMAND probes of its health checks and checks.

#include <string>
#include <vector>

#include "agora/v1/agora.pb.h"
#include "process_runner.hpp"

namespace agora::sdk {

// `/bin/sh -c value` (shell, the default), or `value` with `arguments`
// (argv[0] is the first argument, else value; a value without '/' is looked
// up in the PATH of the resulting environment, as execvp() does). The
// environment is `base` with the command's VALUE variables set over it; it
// runs in `directory` ("" keeps the runner's). Output is left unset.
ProcessSpec commandSpec(const v1::CommandInfo& command, std::vector<std::string> base, const std::string& directory);

}  // namespace agora::sdk
