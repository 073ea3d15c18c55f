//! libvirt's typed parameters, copied into owned values.

use std::ffi::CStr;

use virt::sys;

/// One value of a typed parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamValue {
    Int(i64),
    UInt(u64),
    Double(f64),
    Bool(bool),
    Text(String),
}

pub(super) fn copy_param(param: &sys::virTypedParameter) -> (String, ParamValue) {
    // SAFETY: `field` is a NUL-terminated name within its 80 bytes (VIR_TYPED_PARAM_FIELD_LENGTH).
    let field = unsafe { CStr::from_ptr(param.field.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: each arm reads the union member that `type_` says is set.
    let value = unsafe {
        match param.type_ as u32 {
            sys::VIR_TYPED_PARAM_INT => ParamValue::Int(i64::from(param.value.i)),
            sys::VIR_TYPED_PARAM_UINT => ParamValue::UInt(u64::from(param.value.ui)),
            sys::VIR_TYPED_PARAM_LLONG => ParamValue::Int(param.value.l),
            sys::VIR_TYPED_PARAM_ULLONG => ParamValue::UInt(param.value.ul),
            sys::VIR_TYPED_PARAM_DOUBLE => ParamValue::Double(param.value.d),
            sys::VIR_TYPED_PARAM_BOOLEAN => ParamValue::Bool(param.value.b != 0),
            sys::VIR_TYPED_PARAM_STRING if !param.value.s.is_null() => {
                ParamValue::Text(CStr::from_ptr(param.value.s).to_string_lossy().into_owned())
            }
            _ => ParamValue::Text(String::new()),
        }
    };
    (field, value)
}
