#pragma once

#include <map>
#include <string>

namespace leadflow::testing {

// Every key and value of the read models (the `views` keyspace) of a
// stopped server's data dir. REQUIREs that it opens.
std::map<std::string, std::string> ReadModels(const std::string& data_dir);

// The first key whose value differs between `a` and `b`, or that only one
// of them has; "" when they are the same.
std::string FirstDifference(const std::map<std::string, std::string>& a,
                            const std::map<std::string, std::string>& b);

}  // namespace leadflow::testing
