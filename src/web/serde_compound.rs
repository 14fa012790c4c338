//! serde asks a serializer for one trait impl per kind of compound value (sequence, tuple,
//! tuple struct, tuple variant; struct, struct variant). The writers in `json` and `to_js`
//! treat the four sequence kinds alike and the two struct kinds alike, so this macro writes
//! those impls once from the writer's own `element`/`field` and `finish` methods.

/// `serialize_compounds!(seq Type, Ok, Error, element, finish)` implements the four sequence
/// traits through `self.element(value)`; `serialize_compounds!(fields Type, Ok, Error, field,
/// finish)` the two struct traits through `self.field(key, value)`; every `end` is
/// `self.finish()`.
macro_rules! serialize_compounds {
    (seq $ty:ty, $ok:ty, $err:ty, $element:ident, $finish:ident) => {
        serialize_compounds!(@seq $ty, $ok, $err, SerializeSeq, serialize_element, $element, $finish);
        serialize_compounds!(@seq $ty, $ok, $err, SerializeTuple, serialize_element, $element, $finish);
        serialize_compounds!(@seq $ty, $ok, $err, SerializeTupleStruct, serialize_field, $element, $finish);
        serialize_compounds!(@seq $ty, $ok, $err, SerializeTupleVariant, serialize_field, $element, $finish);
    };
    (fields $ty:ty, $ok:ty, $err:ty, $field:ident, $finish:ident) => {
        serialize_compounds!(@fields $ty, $ok, $err, SerializeStruct, $field, $finish);
        serialize_compounds!(@fields $ty, $ok, $err, SerializeStructVariant, $field, $finish);
    };
    (@seq $ty:ty, $ok:ty, $err:ty, $trait:ident, $method:ident, $element:ident, $finish:ident) => {
        impl serde::ser::$trait for $ty {
            type Ok = $ok;
            type Error = $err;
            fn $method<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> ::core::result::Result<(), $err> {
                self.$element(value)
            }
            fn end(self) -> ::core::result::Result<$ok, $err> {
                self.$finish()
            }
        }
    };
    (@fields $ty:ty, $ok:ty, $err:ty, $trait:ident, $field:ident, $finish:ident) => {
        impl serde::ser::$trait for $ty {
            type Ok = $ok;
            type Error = $err;
            fn serialize_field<T: serde::Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> ::core::result::Result<(), $err> {
                self.$field(key, value)
            }
            fn end(self) -> ::core::result::Result<$ok, $err> {
                self.$finish()
            }
        }
    };
}
