#include "completion.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace leadflow::cli {
namespace {

struct Level {
  std::string path;  // subcommand names from the top, space-separated
  std::vector<std::string> subcommands;
  std::vector<std::string> options;
};

void Collect(CLI::App* app, const std::string& path, std::vector<Level>& levels) {
  Level level;
  level.path = path;
  for (CLI::App* sub : app->get_subcommands({})) {
    level.subcommands.push_back(sub->get_name());
  }
  for (const CLI::Option* option : app->get_options()) {
    for (const auto& name : option->get_lnames()) level.options.push_back("--" + name);
    for (const auto& name : option->get_snames()) level.options.push_back("-" + name);
  }
  levels.push_back(level);
  for (CLI::App* sub : app->get_subcommands({})) {
    Collect(sub, path.empty() ? sub->get_name() : absl::StrCat(path, " ", sub->get_name()), levels);
  }
}

}  // namespace

std::string BashCompletion(CLI::App& app) {
  std::vector<Level> levels;
  Collect(&app, "", levels);
  std::string subcommands;
  std::string words;
  for (const Level& level : levels) {
    absl::StrAppend(&subcommands, "    \"", level.path, "\") echo \"",
                    absl::StrJoin(level.subcommands, " "), "\" ;;\n");
    std::vector<std::string> all = level.subcommands;
    all.insert(all.end(), level.options.begin(), level.options.end());
    absl::StrAppend(&words, "    \"", level.path, "\") echo \"", absl::StrJoin(all, " "),
                    "\" ;;\n");
  }
  return absl::StrCat(
      "# bash completion for leadflow: source it, or put it in\n"
      "# /etc/bash_completion.d/leadflow (zsh: autoload -U bashcompinit && bashcompinit first)\n",
      "_leadflow_subcommands() {\n  case \"$1\" in\n", subcommands, "  esac\n}\n",
      "_leadflow_words() {\n  case \"$1\" in\n", words, "  esac\n}\n",
      "_leadflow() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" word i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    word=${COMP_WORDS[i]}\n"
      "    case \" $(_leadflow_subcommands \"$path\") \" in\n"
      "      *\" $word \"*) path=${path:+$path }$word ;;\n"
      "    esac\n"
      "  done\n"
      "  COMPREPLY=($(compgen -W \"$(_leadflow_words \"$path\")\" -- \"$cur\"))\n"
      "}\n"
      "complete -o default -F _leadflow leadflow\n");
}

void AddCompletionCommand(CLI::App& app, int& rc) {
  auto* completion = app.add_subcommand("completion", "Shell completion script");
  completion->require_subcommand(1);
  completion
      ->add_subcommand("bash",
                       "Bash (and zsh with bashcompinit): source <(leadflow completion bash)")
      ->callback([&app, &rc] {
        const std::string script = BashCompletion(app);
        std::fwrite(script.data(), 1, script.size(), stdout);
        rc = 0;
      });
}

}  // namespace leadflow::cli
