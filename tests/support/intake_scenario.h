#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::testing {

// 1,000 channel events: 600 people (calls, forms, emails, chats), 350
// repeats of them under new event ids, and 50 redeliveries of earlier ids.
// What the leads must be afterwards is known exactly.
struct Scenario {
  std::vector<v1::ChannelEvent> events;
  // identity key → communications expected on that person's lead
  std::map<std::string, int> expected_communications;
  // identity key → responsible expected
  std::map<std::string, std::string> expected_responsible;

  Scenario();
  // Publishes events [from, to) in batches of 100; REQUIREs each accepted.
  void Publish(v1::IntakeService::Stub& stub, size_t from = 0, size_t to = SIZE_MAX) const;
};

// Every lead, page by page.
std::vector<v1::Lead> ListAll(const std::shared_ptr<grpc::Channel>& channel);

// One lead per person, with the communications and responsible expected.
void CheckLeadsMatch(const Scenario& scenario, const std::vector<v1::Lead>& leads);

// The leads as bytes, to compare two states exactly.
std::string Snapshot(const std::vector<v1::Lead>& leads);

}  // namespace leadflow::testing
