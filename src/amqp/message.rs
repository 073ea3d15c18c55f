//! A message to publish, checked before it reaches a broker.

use std::collections::BTreeMap;

use lapin::{
    BasicProperties,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use crate::model::InvalidArgument;

/// What a client asks to publish.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub exchange: String,
    pub routing_key: String,
    pub body: Vec<u8>,
    pub headers: BTreeMap<String, String>,
    pub content_type: String,
    pub message_id: String,
    pub correlation_id: String,
    pub mandatory: bool,
    /// Non-persistent delivery (delivery mode 1); persistent is the default.
    pub transient: bool,
}

/// AMQP short strings (names, keys, header names) are at most 255 bytes.
const SHORT_STRING_MAX: usize = 255;

impl Message {
    /// Checks the message against the protocol's limits and `max_body_bytes`.
    ///
    /// # Errors
    /// The field that is wrong, and why.
    pub fn validate(&self, max_body_bytes: usize) -> Result<(), InvalidArgument> {
        if self.exchange.is_empty() && self.routing_key.is_empty() {
            return Err(InvalidArgument::new(
                "routing_key",
                "`exchange` and `routing_key` are both empty: name an exchange, or a queue as the routing key of the default exchange",
            ));
        }
        for (field, value) in [
            ("exchange", &self.exchange),
            ("routing_key", &self.routing_key),
            ("content_type", &self.content_type),
            ("message_id", &self.message_id),
            ("correlation_id", &self.correlation_id),
        ] {
            if value.len() > SHORT_STRING_MAX {
                return Err(InvalidArgument::new(
                    field,
                    format!(
                        "`{field}` is {} bytes; AMQP allows at most {SHORT_STRING_MAX}",
                        value.len()
                    ),
                ));
            }
        }
        if self.body.len() > max_body_bytes {
            return Err(InvalidArgument::new(
                "body",
                format!(
                    "`body` is {} bytes; this broker accepts at most {max_body_bytes}",
                    self.body.len()
                ),
            ));
        }
        for name in self.headers.keys() {
            let valid = !name.is_empty()
                && name.len() <= SHORT_STRING_MAX
                && name.chars().all(|c| c.is_ascii_graphic());
            if !valid {
                return Err(InvalidArgument::new(
                    "headers",
                    format!(
                        "header name {name:?} is invalid: 1 to {SHORT_STRING_MAX} printable ASCII characters without spaces"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The AMQP properties: persistent unless transient, a timestamp, the headers.
    pub(crate) fn properties(&self) -> BasicProperties {
        let mut headers = FieldTable::default();
        for (name, value) in &self.headers {
            headers.insert(
                ShortString::from(name.clone()),
                AMQPValue::LongString(LongString::from(value.clone())),
            );
        }
        let mut properties = BasicProperties::default()
            .with_delivery_mode(if self.transient { 1 } else { 2 })
            .with_timestamp(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default(),
            )
            .with_headers(headers);
        if !self.content_type.is_empty() {
            properties = properties.with_content_type(ShortString::from(self.content_type.clone()));
        }
        if !self.message_id.is_empty() {
            properties = properties.with_message_id(ShortString::from(self.message_id.clone()));
        }
        if !self.correlation_id.is_empty() {
            properties =
                properties.with_correlation_id(ShortString::from(self.correlation_id.clone()));
        }
        properties
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            exchange: "amq.direct".into(),
            routing_key: "k".into(),
            ..Message::default()
        }
    }

    #[test]
    fn a_destination_is_required() {
        assert!(message().validate(10).is_ok());
        let mut m = message();
        m.exchange.clear();
        m.routing_key.clear();
        assert!(
            m.validate(10)
                .expect_err("no destination")
                .message
                .contains("routing_key")
        );
    }

    #[test]
    fn oversize_bodies_and_bad_header_names_are_refused() {
        let mut m = message();
        m.body = vec![0; 11];
        assert_eq!(m.validate(10).expect_err("too big").field, "body");
        let mut m = message();
        m.headers.insert("bad name".into(), "v".into());
        assert_eq!(m.validate(10).expect_err("space").field, "headers");
        let mut m = message();
        m.headers.insert(String::new(), "v".into());
        assert!(m.validate(10).is_err());
    }

    #[test]
    fn delivery_is_persistent_unless_transient() {
        assert_eq!(*message().properties().delivery_mode(), Some(2));
        let mut m = message();
        m.transient = true;
        assert_eq!(*m.properties().delivery_mode(), Some(1));
    }
}
