#pragma once

#include <string>

#include "leadflow/v1/channel_event.pb.h"

namespace leadflow::testing {

v1::ChannelEvent CallEvent(const std::string& id, const std::string& phone,
                           const std::string& operator_id = "",
                           v1::CallKind kind = v1::CALL_KIND_INCOMING);
v1::ChannelEvent EmailEvent(const std::string& id, const std::string& from,
                            const std::string& subject = "Question");
v1::ChannelEvent FormEvent(const std::string& id, const std::string& phone,
                           const std::string& email, const std::string& name = "");
v1::ChannelEvent ChatEvent(const std::string& id, const std::string& channel,
                           const std::string& handle);

}  // namespace leadflow::testing
