#include "leadflow/base/clock.h"

#include <fstream>
#include <sstream>

#include "absl/strings/strip.h"

namespace leadflow {

absl::Time FileClock::Now() const {
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  absl::Time read;
  std::string error;
  absl::MutexLock lock(&mu_);
  if (in &&
      absl::ParseTime(absl::RFC3339_full, absl::StripAsciiWhitespace(text.str()), &read, &error)) {
    last_ = read;
  }
  return last_;
}

}  // namespace leadflow
