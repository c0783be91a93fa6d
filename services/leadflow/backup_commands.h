#pragma once

#include <CLI/CLI.hpp>

#include "client.h"

namespace leadflow::cli {

// `leadflow backup create|list|restore`: online backups of the embedded
// engine (made by the server into its --backup-dir) and an offline restore
// into a fresh data dir. Sets `rc` to the exit status.
void AddBackupCommands(CLI::App& app, const Common& common, int& rc);

}  // namespace leadflow::cli
