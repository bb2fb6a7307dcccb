//! The recorded form of a model request: the request as JSON with every image replaced by its
//! content hash, and the SHA-256 of that JSON. Transcripts store it; the `replay` provider
//! compares a live request with the recorded one through it and names the first difference.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::provider::{Content, ImageData, ModelRequest};
use crate::transcript::content_hash;

fn image_ref(img: &ImageData) -> Value {
    json!({"media_type": img.media_type, "sha256": content_hash(&img.data), "bytes": img.data.len()})
}

/// The request as JSON, images by hash (so a transcript holds each image once, beside it).
#[must_use]
pub fn normalized(request: &ModelRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let content: Vec<Value> = m
                .content
                .iter()
                .map(|c| match c {
                    Content::Image(img) => json!({"type": "image", "image": image_ref(img)}),
                    Content::ToolResult(r) => json!({
                        "type": "tool_result",
                        "call_id": r.call_id,
                        "content": r.content,
                        "is_error": r.is_error,
                        "images": r.images.iter().map(image_ref).collect::<Vec<_>>(),
                    }),
                    other => serde_json::to_value(other).unwrap_or(Value::Null),
                })
                .collect();
            json!({"role": m.role, "content": content})
        })
        .collect();
    json!({
        "system": request.system,
        "messages": messages,
        "tools": request.tools,
        "sampling": request.sampling,
    })
}

/// `sha256:<hex>` of the normalized request's compact JSON.
#[must_use]
pub fn request_hash(normalized: &Value) -> String {
    let text = serde_json::to_string(normalized).unwrap_or_default();
    format!("sha256:{:x}", Sha256::digest(text.as_bytes()))
}

/// The first place where two JSON values differ, as a path (`messages[3].content[0].text`) and
/// the two values there (abbreviated); `None` when they are equal.
#[must_use]
pub fn first_difference(recorded: &Value, live: &Value) -> Option<String> {
    fn short(v: &Value) -> String {
        let s = v.to_string();
        if s.chars().count() > 120 {
            format!("{}…", s.chars().take(120).collect::<String>())
        } else {
            s
        }
    }
    fn walk(path: &str, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter().find_map(|k| {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    match (x.get(k), y.get(k)) {
                        (Some(va), Some(vb)) => walk(&p, va, vb),
                        (va, vb) => Some(format!(
                            "{p}: recorded {}, live {}",
                            va.map_or("nothing".into(), short),
                            vb.map_or("nothing".into(), short)
                        )),
                    }
                })
            }
            (Value::Array(x), Value::Array(y)) => {
                let n = x.len().max(y.len());
                (0..n).find_map(|i| {
                    let p = format!("{path}[{i}]");
                    match (x.get(i), y.get(i)) {
                        (Some(va), Some(vb)) => walk(&p, va, vb),
                        (va, vb) => Some(format!(
                            "{p}: recorded {}, live {}",
                            va.map_or("nothing".into(), short),
                            vb.map_or("nothing".into(), short)
                        )),
                    }
                })
            }
            _ if a == b => None,
            _ => Some(format!("{path}: recorded {}, live {}", short(a), short(b))),
        }
    }
    walk("", recorded, live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Message, Sampling};

    fn req(text: &str, img: &[u8]) -> ModelRequest {
        ModelRequest {
            system: "sys".into(),
            messages: vec![Message::user(vec![
                Content::text(text),
                Content::Image(ImageData::png(img.to_vec())),
            ])],
            tools: vec![],
            sampling: Sampling::default(),
        }
    }

    #[test]
    fn images_are_hashed_and_differences_are_named() {
        let a = normalized(&req("hello", b"one"));
        assert!(a.to_string().contains("sha256") && !a.to_string().contains("b25l"));
        assert_eq!(request_hash(&a), request_hash(&normalized(&req("hello", b"one"))));
        let b = normalized(&req("hullo", b"one"));
        assert_ne!(request_hash(&a), request_hash(&b));
        let d = first_difference(&a, &b).unwrap();
        assert!(d.starts_with("messages[0].content[0].text: recorded \"hello\""), "{d}");
        let c = normalized(&req("hello", b"two"));
        assert!(first_difference(&a, &c).unwrap().contains("image.sha256"));
        assert_eq!(first_difference(&a, &a), None);
    }
}
