#include "support/intake_scenario.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "support/channel_events.h"
#include "support/server_process.h"

namespace leadflow::testing {
namespace {

std::string Phone(int person) { return absl::StrCat("+7916", 2000000 + person); }
std::string Email(int person) { return absl::StrCat("person", person, "@example.org"); }

std::string Key(int person) {
  switch (person % 4) {
    case 0:
    case 1:
      return "phone:" + Phone(person);
    case 2:
      return "email:" + Email(person);
    default:
      return absl::StrCat("messenger:telegram:@p", person);
  }
}

v1::ChannelEvent EventFor(int person, const std::string& id) {
  switch (person % 4) {
    case 0:
      return CallEvent(id, Phone(person), absl::StrCat("op-", person % 7));
    case 1:
      return FormEvent(id, Phone(person), "");
    case 2:
      return EmailEvent(id, Email(person));
    default:
      return ChatEvent(id, "telegram", absl::StrCat("@p", person));
  }
}

}  // namespace

Scenario::Scenario() {
  for (int person = 0; person < 600; ++person) {
    events.push_back(EventFor(person, absl::StrCat("first-", person)));
    expected_communications[Key(person)] = 1;
    expected_responsible[Key(person)] = person % 4 == 0 ? absl::StrCat("op-", person % 7) : "";
  }
  for (int i = 0; i < 350; ++i) {
    const int person = (i * 7) % 600;
    events.push_back(EventFor(person, absl::StrCat("repeat-", i)));
    ++expected_communications[Key(person)];
  }
  for (int i = 0; i < 50; ++i) events.push_back(events[i * 13]);  // same ids again
}

void Scenario::Publish(v1::IntakeService::Stub& stub, size_t from, size_t to) const {
  to = std::min(to, events.size());
  for (size_t start = from; start < to; start += 100) {
    v1::PublishChannelEventsRequest request;
    for (size_t i = start; i < std::min(start + 100, to); ++i) *request.add_events() = events[i];
    v1::PublishChannelEventsResponse response;
    auto ctx = Deadline();
    grpc::Status status = stub.PublishChannelEvents(ctx.get(), request, &response);
    REQUIRE(status.ok());
    REQUIRE(response.positions_size() == request.events_size());
  }
}

std::vector<v1::Lead> ListAll(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::LeadService::NewStub(channel);
  std::vector<v1::Lead> leads;
  v1::ListLeadsRequest request;
  request.set_page_size(250);
  do {
    v1::ListLeadsResponse response;
    auto ctx = Deadline();
    REQUIRE(stub->ListLeads(ctx.get(), request, &response).ok());
    for (const auto& lead : response.leads()) leads.push_back(lead);
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return leads;
}

void CheckLeadsMatch(const Scenario& scenario, const std::vector<v1::Lead>& leads) {
  REQUIRE(leads.size() == scenario.expected_communications.size());
  std::map<std::string, const v1::Lead*> by_key;
  for (const auto& lead : leads) {
    REQUIRE(lead.identity_keys_size() == 1);
    CHECK(by_key.emplace(lead.identity_keys(0), &lead).second);  // one lead per person
  }
  int mismatches = 0;
  for (const auto& [key, expected] : scenario.expected_communications) {
    auto it = by_key.find(key);
    REQUIRE(it != by_key.end());
    if (it->second->communication_count() != expected ||
        it->second->responsible_id() != scenario.expected_responsible.at(key)) {
      ++mismatches;
      UNSCOPED_INFO(key << ": " << ToJson(*it->second));
    }
  }
  CHECK(mismatches == 0);
}

std::string Snapshot(const std::vector<v1::Lead>& leads) {
  std::string out;
  for (const auto& lead : leads) out += SerializeDeterministic(lead);
  return out;
}

}  // namespace leadflow::testing
