#include "leadflow/domain/channel_event_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/input_limits.h"

namespace leadflow::domain {
namespace {

constexpr size_t kMaxIdLength = 200;

absl::Status CheckId(absl::string_view value, absl::string_view field, bool required) {
  if (value.empty()) {
    return required ? InvalidField(field, "required") : absl::OkStatus();
  }
  if (value.size() > kMaxIdLength) {
    return InvalidField(field, absl::StrCat("longer than ", kMaxIdLength, " characters"));
  }
  if (HasControlCharacters(value)) return InvalidField(field, "contains control characters");
  return absl::OkStatus();
}

// Normalises *phone in place when set; required ones must be set.
absl::Status NormalizePhoneField(std::string* phone, absl::string_view field, bool required,
                                 const DomainConfig& config) {
  if (absl::StripAsciiWhitespace(*phone).empty()) {
    phone->clear();
    return required ? InvalidField(field, "required") : absl::OkStatus();
  }
  auto e164 = NormalizePhone(*phone, config.default_region, field);
  if (!e164.ok()) return e164.status();
  *phone = *std::move(e164);
  return absl::OkStatus();
}

absl::Status NormalizeEmailField(std::string* email, absl::string_view field, bool required) {
  if (absl::StripAsciiWhitespace(*email).empty()) {
    email->clear();
    return required ? InvalidField(field, "required") : absl::OkStatus();
  }
  auto normalized = NormalizeEmail(*email, field);
  if (!normalized.ok()) return normalized.status();
  *email = *std::move(normalized);
  return absl::OkStatus();
}

void SplitName(absl::string_view full, v1::Lead* lead) {
  std::string name(absl::StripAsciiWhitespace(full));
  if (name.empty()) return;
  const size_t space = name.find(' ');
  if (space == std::string::npos) {
    lead->set_first_name(name);
    return;
  }
  lead->set_first_name(name.substr(0, space));
  lead->set_last_name(std::string(absl::StripAsciiWhitespace(name.substr(space + 1))));
}

void AddPhone(absl::string_view number, v1::Lead* lead) {
  if (number.empty()) return;
  auto* phone = lead->add_phones();
  phone->set_number(std::string(number));
  phone->set_type(v1::CONTACT_POINT_TYPE_WORK);
}

void AddEmail(absl::string_view address, v1::Lead* lead) {
  if (address.empty()) return;
  auto* email = lead->add_emails();
  email->set_address(std::string(address));
  email->set_type(v1::CONTACT_POINT_TYPE_WORK);
}

std::string FieldOrEmpty(const google::protobuf::Map<std::string, std::string>& fields,
                         const std::string& key) {
  auto it = fields.find(key);
  return it == fields.end() ? std::string() : it->second;
}

}  // namespace

absl::StatusOr<v1::ChannelEvent> NormalizeChannelEvent(const v1::ChannelEvent& event,
                                                       const DomainConfig& config) {
  LEADFLOW_RETURN_IF_ERROR(CheckInputLimits(event, ""));
  v1::ChannelEvent out = event;
  // Every violation is named, not only the first.
  FieldViolations violations;
  violations.Add(CheckId(out.id(), "id", true));
  violations.Add(CheckId(out.source(), "source", true));
  switch (out.payload_case()) {
    case v1::ChannelEvent::kCall: {
      auto* call = out.mutable_call();
      if (call->kind() == v1::CALL_KIND_UNSPECIFIED) {
        violations.Add(InvalidField("call.kind", "required"));
      }
      if (call->duration_seconds() < 0) {
        violations.Add(InvalidField("call.duration_seconds", "negative"));
      }
      violations.Add(
          NormalizePhoneField(call->mutable_customer_phone(), "call.customer_phone", true, config));
      violations.Add(CheckId(call->operator_id(), "call.operator_id", false));
      break;
    }
    case v1::ChannelEvent::kEmail:
      violations.Add(NormalizeEmailField(out.mutable_email()->mutable_from_address(),
                                         "email.from_address", true));
      break;
    case v1::ChannelEvent::kWebForm: {
      auto* form = out.mutable_web_form();
      violations.Add(CheckId(form->form_id(), "web_form.form_id", true));
      auto& fields = *form->mutable_fields();
      std::string phone = FieldOrEmpty(fields, "phone");
      std::string email = FieldOrEmpty(fields, "email");
      const absl::Status phone_ok =
          NormalizePhoneField(&phone, "web_form.fields[phone]", false, config);
      const absl::Status email_ok = NormalizeEmailField(&email, "web_form.fields[email]", false);
      violations.Add(phone_ok);
      violations.Add(email_ok);
      if (phone_ok.ok() && email_ok.ok() && phone.empty() && email.empty()) {
        violations.Add(InvalidField("web_form.fields", "needs a \"phone\" or an \"email\" field"));
      }
      if (fields.contains("phone")) fields["phone"] = phone;
      if (fields.contains("email")) fields["email"] = email;
      break;
    }
    case v1::ChannelEvent::kCallbackRequest:
      violations.Add(NormalizePhoneField(out.mutable_callback_request()->mutable_phone(),
                                         "callback_request.phone", true, config));
      break;
    case v1::ChannelEvent::kChatMessage: {
      auto* chat = out.mutable_chat_message();
      violations.Add(CheckId(chat->channel(), "chat_message.channel", true));
      violations.Add(CheckId(chat->handle(), "chat_message.handle", true));
      violations.Add(
          NormalizePhoneField(chat->mutable_phone(), "chat_message.phone", false, config));
      violations.Add(NormalizeEmailField(chat->mutable_email(), "chat_message.email", false));
      break;
    }
    case v1::ChannelEvent::kManualEntry: {
      auto* manual = out.mutable_manual_entry();
      const absl::Status phone_ok =
          NormalizePhoneField(manual->mutable_phone(), "manual_entry.phone", false, config);
      const absl::Status email_ok =
          NormalizeEmailField(manual->mutable_email(), "manual_entry.email", false);
      violations.Add(phone_ok);
      violations.Add(email_ok);
      if (phone_ok.ok() && email_ok.ok() && manual->phone().empty() && manual->email().empty()) {
        violations.Add(InvalidField("manual_entry", "needs a phone or an email"));
      }
      break;
    }
    case v1::ChannelEvent::PAYLOAD_NOT_SET:
      violations.Add(InvalidField("payload",
                                  "required: one of call, email, web_form, callback_request, "
                                  "chat_message, manual_entry"));
      break;
  }
  LEADFLOW_RETURN_IF_ERROR(violations.ToStatus());
  return out;
}

v1::LeadSource LeadSourceOf(const v1::ChannelEvent& event) {
  switch (event.payload_case()) {
    case v1::ChannelEvent::kCall:
      return v1::LEAD_SOURCE_CALL;
    case v1::ChannelEvent::kEmail:
      return v1::LEAD_SOURCE_EMAIL;
    case v1::ChannelEvent::kWebForm:
      return v1::LEAD_SOURCE_WEB_FORM;
    case v1::ChannelEvent::kCallbackRequest:
      return v1::LEAD_SOURCE_CALLBACK;
    case v1::ChannelEvent::kChatMessage:
      return v1::LEAD_SOURCE_CHAT;
    case v1::ChannelEvent::kManualEntry:
      return v1::LEAD_SOURCE_MANUAL;
    case v1::ChannelEvent::PAYLOAD_NOT_SET:
      break;
  }
  return v1::LEAD_SOURCE_UNSPECIFIED;
}

v1::Lead LeadFromChannelEvent(const v1::ChannelEvent& event) {
  v1::Lead lead;
  lead.set_source(LeadSourceOf(event));
  lead.set_source_description(event.source());
  auto& details = *lead.mutable_source_details();
  switch (event.payload_case()) {
    case v1::ChannelEvent::kCall: {
      const auto& call = event.call();
      AddPhone(call.customer_phone(), &lead);
      SplitName(call.customer_name(), &lead);
      if (!call.line().empty()) details["line"] = call.line();
      details["call_kind"] = v1::CallKind_Name(call.kind());
      const bool answered =
          call.kind() == v1::CALL_KIND_INCOMING || call.kind() == v1::CALL_KIND_OUTGOING;
      if (answered && !call.operator_id().empty()) {
        lead.set_responsible_id(call.operator_id());
        details["operator_id"] = call.operator_id();
      }
      const char* what = call.kind() == v1::CALL_KIND_OUTGOING    ? "Outgoing call to "
                         : call.kind() == v1::CALL_KIND_MISSED    ? "Missed call from "
                         : call.kind() == v1::CALL_KIND_VOICEMAIL ? "Voicemail from "
                                                                  : "Incoming call from ";
      lead.set_title(absl::StrCat(what, call.customer_phone()));
      break;
    }
    case v1::ChannelEvent::kEmail: {
      const auto& email = event.email();
      AddEmail(email.from_address(), &lead);
      SplitName(email.from_name(), &lead);
      if (!email.message_id().empty()) details["message_id"] = email.message_id();
      lead.set_title(
          absl::StrCat("Email: ", email.subject().empty() ? "(no subject)" : email.subject()));
      lead.set_comments(email.body().substr(0, 4000));
      break;
    }
    case v1::ChannelEvent::kWebForm: {
      const auto& form = event.web_form();
      const auto& fields = form.fields();
      AddPhone(FieldOrEmpty(fields, "phone"), &lead);
      AddEmail(FieldOrEmpty(fields, "email"), &lead);
      SplitName(FieldOrEmpty(fields, "name"), &lead);
      lead.set_company_title(FieldOrEmpty(fields, "company"));
      lead.set_comments(FieldOrEmpty(fields, "comment"));
      details["form_id"] = form.form_id();
      if (!form.page_url().empty()) details["page_url"] = form.page_url();
      if (!form.utm().source().empty()) details["utm_source"] = form.utm().source();
      if (!form.utm().medium().empty()) details["utm_medium"] = form.utm().medium();
      if (!form.utm().campaign().empty()) details["utm_campaign"] = form.utm().campaign();
      if (!form.utm().content().empty()) details["utm_content"] = form.utm().content();
      if (!form.utm().term().empty()) details["utm_term"] = form.utm().term();
      for (const auto& [key, value] : fields) details[absl::StrCat("field.", key)] = value;
      lead.set_title(absl::StrCat("Web form ", form.form_id()));
      break;
    }
    case v1::ChannelEvent::kCallbackRequest: {
      const auto& callback = event.callback_request();
      AddPhone(callback.phone(), &lead);
      SplitName(callback.name(), &lead);
      lead.set_comments(callback.comment());
      if (!callback.form_id().empty()) details["form_id"] = callback.form_id();
      lead.set_title(absl::StrCat("Callback request from ", callback.phone()));
      break;
    }
    case v1::ChannelEvent::kChatMessage: {
      const auto& chat = event.chat_message();
      auto* messenger = lead.add_messengers();
      messenger->set_channel(chat.channel());
      messenger->set_handle(chat.handle());
      AddPhone(chat.phone(), &lead);
      AddEmail(chat.email(), &lead);
      SplitName(chat.name(), &lead);
      lead.set_comments(chat.text().substr(0, 4000));
      details["chat_channel"] = chat.channel();
      lead.set_title(absl::StrCat("Chat (", chat.channel(), ") from ", chat.handle()));
      break;
    }
    case v1::ChannelEvent::kManualEntry: {
      const auto& manual = event.manual_entry();
      AddPhone(manual.phone(), &lead);
      AddEmail(manual.email(), &lead);
      SplitName(manual.name(), &lead);
      lead.set_company_title(manual.company_title());
      lead.set_comments(manual.comment());
      lead.set_responsible_id(manual.entered_by());
      lead.set_title(manual.title().empty() ? absl::StrCat("Manual entry: ", manual.name())
                                            : manual.title());
      break;
    }
    case v1::ChannelEvent::PAYLOAD_NOT_SET:
      break;
  }
  return lead;
}

std::string IntakeRoutingKey(const v1::ChannelEvent& normalized) {
  std::vector<std::string> keys = LeadIdentityKeys(LeadFromChannelEvent(normalized));
  if (keys.empty()) return absl::StrCat("event:", normalized.id());
  return keys.front();
}

}  // namespace leadflow::domain
