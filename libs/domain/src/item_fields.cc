#include <google/protobuf/util/field_mask_util.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {

absl::Status NormalizeContactPoints(
    google::protobuf::RepeatedPtrField<v1::PhoneNumber>* phones,
    google::protobuf::RepeatedPtrField<v1::EmailAddress>* emails,
    const google::protobuf::RepeatedPtrField<v1::MessengerHandle>& messengers,
    absl::string_view prefix, const DomainConfig& config) {
  absl::flat_hash_set<std::string> seen;
  FieldViolations violations;
  google::protobuf::RepeatedPtrField<v1::PhoneNumber> normal_phones;
  for (int i = 0; i < phones->size(); ++i) {
    auto e164 = NormalizePhone(phones->Get(i).number(), config.default_region,
                               absl::StrCat(prefix, "phones[", i, "].number"));
    if (!e164.ok()) {
      violations.Add(e164.status());
      continue;
    }
    if (!seen.insert(*e164).second) continue;
    auto* phone = normal_phones.Add();
    phone->set_number(*e164);
    phone->set_type(phones->Get(i).type());
  }
  google::protobuf::RepeatedPtrField<v1::EmailAddress> normal_emails;
  for (int i = 0; i < emails->size(); ++i) {
    auto address =
        NormalizeEmail(emails->Get(i).address(), absl::StrCat(prefix, "emails[", i, "].address"));
    if (!address.ok()) {
      violations.Add(address.status());
      continue;
    }
    if (!seen.insert(*address).second) continue;
    auto* email = normal_emails.Add();
    email->set_address(*address);
    email->set_type(emails->Get(i).type());
  }
  for (int i = 0; i < messengers.size(); ++i) {
    if (messengers.Get(i).channel().empty() || messengers.Get(i).handle().empty()) {
      violations.Add(
          InvalidField(absl::StrCat(prefix, "messengers[", i, "]"), "needs channel and handle"));
    }
  }
  LEADFLOW_RETURN_IF_ERROR(violations.ToStatus());
  phones->Swap(&normal_phones);
  emails->Swap(&normal_emails);
  return absl::OkStatus();
}

absl::Status DecideNotify(absl::string_view responsible, const v1::NotifyUser& notify,
                          EventSink& sink) {
  const std::string& user = notify.user_id().empty() ? std::string(responsible) : notify.user_id();
  if (user.empty()) return InvalidField("user_id", "required: the item has no responsible");
  LEADFLOW_RETURN_IF_ERROR(CheckResponsible(user, "user_id"));
  if (notify.text().empty()) return InvalidField("text", "required");
  auto* notified = sink.Add().mutable_responsible_notified();
  notified->set_user_id(user);
  notified->set_reason(notify.text());
  notified->set_priority(notify.priority());
  notified->set_activity_id(notify.activity_id());
  return absl::OkStatus();
}

absl::Status DecideSendMessage(const google::protobuf::RepeatedPtrField<v1::PhoneNumber>& phones,
                               const google::protobuf::RepeatedPtrField<v1::EmailAddress>& emails,
                               const v1::SendMessage& send, EventSink& sink) {
  v1::OutgoingMessage message;
  switch (send.channel()) {
    case v1::MESSAGE_CHANNEL_EMAIL:
      if (emails.empty()) {
        return FieldError(absl::StatusCode::kFailedPrecondition, "emails",
                          "the item has no email to send to");
      }
      message.set_to(emails.Get(0).address());
      break;
    case v1::MESSAGE_CHANNEL_SMS:
      if (phones.empty()) {
        return FieldError(absl::StatusCode::kFailedPrecondition, "phones",
                          "the item has no phone to send an SMS to");
      }
      message.set_to(phones.Get(0).number());
      break;
    default:
      return InvalidField("channel", "EMAIL or SMS");
  }
  if (send.body().empty() && send.template_id().empty()) {
    return InvalidField("body", "required unless template_id names the integration's template");
  }
  message.set_channel(send.channel());
  message.set_template_id(send.template_id());
  message.set_subject(send.subject());
  message.set_body(send.body());
  *sink.Add().mutable_message_requested()->mutable_message() = std::move(message);
  return absl::OkStatus();
}

bool MovesForward(const v1::Pipeline& pipeline, absl::string_view from, absl::string_view to) {
  int from_index = -1;
  int to_index = -1;
  for (int i = 0; i < pipeline.stages_size(); ++i) {
    if (pipeline.stages(i).stage_id() == from) {
      if (IsTerminal(pipeline.stages(i).semantic())) return false;
      from_index = i;
    }
    if (pipeline.stages(i).stage_id() == to) to_index = i;
  }
  return to_index > from_index;
}

absl::Status CheckMoney(const v1::Money& money, absl::string_view field) {
  if (money.amount_minor() < 0)
    return InvalidField(absl::StrCat(field, ".amount_minor"), "negative");
  const std::string& code = money.currency_code();
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), absl::ascii_isupper)) {
    return InvalidField(absl::StrCat(field, ".currency_code"),
                        "must be an ISO 4217 code such as \"RUB\"");
  }
  return absl::OkStatus();
}

absl::Status CheckUpdateMask(const google::protobuf::FieldMask& mask,
                             std::initializer_list<absl::string_view> updatable) {
  if (mask.paths_size() == 0)
    return InvalidField("update_mask", "required: name the fields to update");
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    if (std::find(updatable.begin(), updatable.end(), path) == updatable.end()) {
      return InvalidField(absl::StrCat("update_mask.paths[", i, "]"),
                          absl::StrCat("'", path, "' cannot be updated"));
    }
  }
  return absl::OkStatus();
}

void MergeMasked(const google::protobuf::Message& source, const google::protobuf::FieldMask& mask,
                 google::protobuf::Message* target) {
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(source, mask, options, target);
}

absl::Status CheckResponsible(absl::string_view responsible_id, absl::string_view field) {
  if (responsible_id.size() > 200) return InvalidField(field, "longer than 200 characters");
  return absl::OkStatus();
}

}  // namespace leadflow::domain
