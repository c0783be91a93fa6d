#include "support/channel_events.h"

namespace leadflow::testing {

v1::ChannelEvent CallEvent(const std::string& id, const std::string& phone,
                           const std::string& operator_id, v1::CallKind kind) {
  v1::ChannelEvent event;
  event.set_id(id);
  event.set_source("test/pbx");
  auto* call = event.mutable_call();
  call->set_kind(kind);
  call->set_customer_phone(phone);
  call->set_operator_id(operator_id);
  call->set_line("+74950000000");
  call->set_duration_seconds(42);
  return event;
}

v1::ChannelEvent EmailEvent(const std::string& id, const std::string& from,
                            const std::string& subject) {
  v1::ChannelEvent event;
  event.set_id(id);
  event.set_source("test/mail");
  auto* email = event.mutable_email();
  email->set_from_address(from);
  email->set_subject(subject);
  email->set_body("Hello, please call me back.");
  email->set_message_id("<" + id + "@test>");
  return event;
}

v1::ChannelEvent FormEvent(const std::string& id, const std::string& phone,
                           const std::string& email, const std::string& name) {
  v1::ChannelEvent event;
  event.set_id(id);
  event.set_source("test/site");
  auto* form = event.mutable_web_form();
  form->set_form_id("contact-us");
  if (!phone.empty()) (*form->mutable_fields())["phone"] = phone;
  if (!email.empty()) (*form->mutable_fields())["email"] = email;
  if (!name.empty()) (*form->mutable_fields())["name"] = name;
  form->mutable_utm()->set_source("google");
  form->mutable_utm()->set_campaign("autumn");
  return event;
}

v1::ChannelEvent ChatEvent(const std::string& id, const std::string& channel,
                           const std::string& handle) {
  v1::ChannelEvent event;
  event.set_id(id);
  event.set_source("test/openlines");
  auto* chat = event.mutable_chat_message();
  chat->set_channel(channel);
  chat->set_handle(handle);
  chat->set_text("Hi! How much is it?");
  return event;
}

}  // namespace leadflow::testing
