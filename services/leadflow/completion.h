#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace leadflow::cli {

// A bash completion script for `app` (every subcommand and option as the
// CLI has them now); zsh takes it after `autoload -U bashcompinit &&
// bashcompinit`.
std::string BashCompletion(CLI::App& app);

// `leadflow completion bash`: prints it. Add last, after every command.
void AddCompletionCommand(CLI::App& app, int& rc);

}  // namespace leadflow::cli
