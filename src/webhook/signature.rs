//! Delivery signatures: HMAC-SHA256 over `"{timestamp}.{body}"` under the webhook's
//! secret, sent as `sha256=<hex>`. Binding the timestamp lets receivers refuse
//! replays of old deliveries; binding the body, any change to it.

use ring::hmac;

/// The `X-Virtplane-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("sha256={}", crate::hex::encode(context.sign().as_ref()))
}

/// Checks a signature in constant time, as a receiver would.
pub fn verify(secret: &[u8], timestamp: u64, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = crate::hex::decode(hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    hmac::verify(&key, &message, &tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac_sha256_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        // Here the data is "<timestamp>.<body>", so split it accordingly.
        let key = b"Jefe";
        let expected = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        // "what do ya want for nothing?" cannot be split as digits + '.', so check the
        // construction against ring directly and the vector through the raw HMAC.
        let raw = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, key),
            b"what do ya want for nothing?",
        );
        assert_eq!(
            format!("sha256={}", crate::hex::encode(raw.as_ref())),
            expected
        );
        let signed = sign(key, 1_700_000_000, b"{}");
        let direct = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), b"1700000000.{}");
        assert_eq!(
            signed,
            format!("sha256={}", crate::hex::encode(direct.as_ref()))
        );
    }

    #[test]
    fn verifies_its_own_signature_and_refuses_any_change() {
        let signature = sign(b"secret", 42, b"{\"id\":1}");
        assert!(verify(b"secret", 42, b"{\"id\":1}", &signature));
        assert!(!verify(b"secret", 43, b"{\"id\":1}", &signature));
        assert!(!verify(b"secret", 42, b"{\"id\":2}", &signature));
        assert!(!verify(b"other", 42, b"{\"id\":1}", &signature));
        assert!(!verify(b"secret", 42, b"{\"id\":1}", "md5=00"));
    }
}
