//! Non-blocking libvirt streams driven by the event loop: `virt` 0.5 hands libvirt the
//! address of its `Stream` as the callback context (dangling once the value moves),
//! treats a non-blocking "would block" (-2) as an error, and panics in `Drop`. Here
//! the context is a boxed `Arc` libvirt frees exactly once, and each I/O result says
//! whether it moved bytes, would block, reached the end or failed. A stream connects
//! to a console, or to a storage volume's upload or download.

use std::{
    ffi::CString,
    os::raw::{c_char, c_int, c_uint, c_void},
    ptr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use virt::{
    connect::Connect, domain::Domain, error::Error as VirtError, storage_vol::StorageVol, sys,
};

use super::callbacks::LIVE_CONTEXTS;

/// The stream became readable.
pub(crate) const READABLE: c_int = sys::VIR_STREAM_EVENT_READABLE as c_int;
/// The stream can take more data.
pub(crate) const WRITABLE: c_int = sys::VIR_STREAM_EVENT_WRITABLE as c_int;
/// The stream failed.
pub(crate) const ERROR: c_int = sys::VIR_STREAM_EVENT_ERROR as c_int;
/// The other end closed the stream.
pub(crate) const HANGUP: c_int = sys::VIR_STREAM_EVENT_HANGUP as c_int;

/// What a stream's events are handed to. Runs on libvirt's event loop thread: it must
/// not block, and it must not call back into libvirt except through the [`StreamIo`]
/// it is given.
pub(crate) trait StreamEvents: Send + Sync + 'static {
    fn on_events(&self, io: &StreamIo<'_>, events: c_int);
}

/// The outcome of one non-blocking read or write.
#[derive(Debug)]
pub(crate) enum Io {
    /// This many bytes moved.
    Moved(usize),
    /// Nothing can move now; the event loop says when it can.
    WouldBlock,
    /// The other end finished sending (reads only).
    End,
    Failed(VirtError),
}

/// A non-blocking stream and the registration of its event callback.
#[derive(Debug)]
pub(crate) struct EventStream {
    ptr: sys::virStreamPtr,
    /// An event callback is registered.
    watched: AtomicBool,
    /// `virStreamFinish` succeeded: nothing is left to abort.
    finished: AtomicBool,
}

// SAFETY: libvirt's stream objects are reference counted and lock themselves; every
// call made through `EventStream` is one libvirt documents as callable from any thread.
unsafe impl Send for EventStream {}
// SAFETY: as for `Send`: shared access only makes libvirt calls that lock the stream.
unsafe impl Sync for EventStream {}

impl EventStream {
    /// A new non-blocking stream over `conn` (`virStreamNew` with `VIR_STREAM_NONBLOCK`).
    pub(crate) fn new(conn: &Connect) -> Result<Self, VirtError> {
        // SAFETY: `conn` is a live connection; the new stream holds its own reference.
        let ptr = unsafe { sys::virStreamNew(conn.as_ptr(), sys::VIR_STREAM_NONBLOCK) };
        if ptr.is_null() {
            return Err(VirtError::last_error());
        }
        Ok(EventStream {
            ptr,
            watched: AtomicBool::new(false),
            finished: AtomicBool::new(false),
        })
    }

    /// Connects the stream to `dom`'s console or serial device `device` (the first
    /// console when `None`): `virDomainOpenConsole`.
    pub(crate) fn open_console(
        &self,
        dom: &Domain,
        device: Option<&str>,
        flags: c_uint,
    ) -> Result<(), VirtError> {
        let device = device.map(CString::new).transpose()?;
        let device_ptr = device.as_ref().map_or(ptr::null(), |d| d.as_ptr());
        // SAFETY: `dom` and the stream are valid for the call; `device` outlives it.
        let rc = unsafe { sys::virDomainOpenConsole(dom.as_ptr(), device_ptr, self.ptr, flags) };
        if rc < 0 {
            Err(VirtError::last_error())
        } else {
            Ok(())
        }
    }

    /// Connects the stream to an upload of `length` bytes (0: until the stream
    /// finishes) into `vol` from `offset`: `virStorageVolUpload`.
    pub(crate) fn upload(
        &self,
        vol: &StorageVol,
        offset: u64,
        length: u64,
    ) -> Result<(), VirtError> {
        // SAFETY: `vol` and the stream are valid for the call.
        let rc = unsafe { sys::virStorageVolUpload(vol.as_ptr(), self.ptr, offset, length, 0) };
        if rc < 0 {
            Err(VirtError::last_error())
        } else {
            Ok(())
        }
    }

    /// Connects the stream to a download of `length` bytes (0: to the end) of `vol`
    /// from `offset`: `virStorageVolDownload`.
    pub(crate) fn download(
        &self,
        vol: &StorageVol,
        offset: u64,
        length: u64,
    ) -> Result<(), VirtError> {
        // SAFETY: `vol` and the stream are valid for the call.
        let rc = unsafe { sys::virStorageVolDownload(vol.as_ptr(), self.ptr, offset, length, 0) };
        if rc < 0 {
            Err(VirtError::last_error())
        } else {
            Ok(())
        }
    }

    /// Stops the event callback, then ends the transfer cleanly (`virStreamFinish`):
    /// for an upload, libvirt answers once the other end has written everything.
    /// Blocking: a round trip to the daemon.
    pub(crate) fn finish(&self) -> Result<(), VirtError> {
        self.stop_watching();
        // SAFETY: the stream is valid while `self` lives.
        if unsafe { sys::virStreamFinish(self.ptr) } < 0 {
            return Err(VirtError::last_error());
        }
        self.finished.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes the event callback, if one is registered; libvirt frees its context
    /// once any callback in progress has returned.
    fn stop_watching(&self) {
        if self.watched.swap(false, Ordering::AcqRel) {
            // SAFETY: the callback was registered on this valid stream.
            unsafe {
                sys::virStreamEventRemoveCallback(self.ptr);
            }
        }
    }

    /// Hands the stream's `events` to `handler` on libvirt's event loop thread until
    /// the stream is dropped or finished. Once only.
    pub(crate) fn watch(
        &mut self,
        events: c_int,
        handler: Arc<dyn StreamEvents>,
    ) -> Result<(), VirtError> {
        assert!(
            !self.watched.load(Ordering::Acquire),
            "a stream has one event callback"
        );
        let opaque = Box::into_raw(Box::new(handler)).cast::<c_void>();
        // SAFETY: the stream is valid; `opaque` is a boxed Arc whose ownership passes
        // to libvirt on success (freed by `free_handler`) and stays here on failure.
        let rc = unsafe {
            sys::virStreamEventAddCallback(
                self.ptr,
                events,
                Some(on_stream_events),
                opaque,
                Some(free_handler),
            )
        };
        if rc < 0 {
            let err = VirtError::last_error();
            // SAFETY: registration failed, so libvirt kept no reference to `opaque`.
            drop(unsafe { Box::from_raw(opaque.cast::<Arc<dyn StreamEvents>>()) });
            return Err(err);
        }
        LIVE_CONTEXTS.fetch_add(1, Ordering::SeqCst);
        self.watched.store(true, Ordering::Release);
        Ok(())
    }

    /// The stream's I/O, for use outside the event callback.
    pub(crate) fn io(&self) -> StreamIo<'_> {
        StreamIo {
            ptr: self.ptr,
            _stream: std::marker::PhantomData,
        }
    }
}

impl Drop for EventStream {
    /// Stops the callback, aborts the transfer unless it finished, and drops the
    /// reference. Blocking: the abort is a round trip to the daemon, so drop on a
    /// blocking thread.
    fn drop(&mut self) {
        self.stop_watching();
        // Failures here mean the stream already ended or its connection is gone, and
        // leave nothing to undo: the reference is dropped either way.
        // SAFETY: the stream is valid until `virStreamFree` below.
        unsafe {
            if !self.finished.load(Ordering::Acquire) {
                sys::virStreamAbort(self.ptr);
            }
            sys::virStreamFree(self.ptr);
            sys::virResetLastError();
        }
    }
}

/// Reads, writes and the event mask of a stream, borrowed from it or from its callback.
#[derive(Debug)]
pub(crate) struct StreamIo<'a> {
    ptr: sys::virStreamPtr,
    _stream: std::marker::PhantomData<&'a EventStream>,
}

impl StreamIo<'_> {
    /// Reads what is available into `buf` without blocking.
    pub(crate) fn recv(&self, buf: &mut [u8]) -> Io {
        // SAFETY: the stream is valid while `self` lives; `buf` is writable for its length.
        let n =
            unsafe { sys::virStreamRecv(self.ptr, buf.as_mut_ptr().cast::<c_char>(), buf.len()) };
        io_result(n, true)
    }

    /// Writes as much of `data` as the stream takes now without blocking.
    pub(crate) fn send(&self, data: &[u8]) -> Io {
        // SAFETY: the stream is valid while `self` lives; libvirt only reads `data`.
        let n = unsafe {
            sys::virStreamSend(
                self.ptr,
                data.as_ptr().cast::<c_char>().cast_mut(),
                data.len(),
            )
        };
        io_result(n, false)
    }

    /// Changes which events the callback is given (`virStreamEventUpdateCallback`).
    pub(crate) fn set_events(&self, events: c_int) -> Result<(), VirtError> {
        // SAFETY: the stream is valid while `self` lives; it has a callback registered
        // whenever this is called (only the handler and its owner call it).
        if unsafe { sys::virStreamEventUpdateCallback(self.ptr, events) } < 0 {
            Err(VirtError::last_error())
        } else {
            Ok(())
        }
    }
}

fn io_result(n: c_int, reading: bool) -> Io {
    match n {
        -2 => Io::WouldBlock,
        n if n < 0 => Io::Failed(VirtError::last_error()),
        0 if reading => Io::End,
        n => Io::Moved(usize::try_from(n).unwrap_or(0)),
    }
}

/// Runs on libvirt's event loop thread for every event the stream was asked to report.
unsafe extern "C" fn on_stream_events(
    stream: sys::virStreamPtr,
    events: c_int,
    opaque: *mut c_void,
) {
    // SAFETY: `opaque` is the boxed Arc registered with this callback, alive until
    // libvirt calls `free_handler`, which it never does during a callback.
    let handler = unsafe { &*opaque.cast::<Arc<dyn StreamEvents>>() };
    let io = StreamIo {
        ptr: stream,
        _stream: std::marker::PhantomData,
    };
    handler.on_events(&io, events);
}

unsafe extern "C" fn free_handler(opaque: *mut c_void) {
    // SAFETY: libvirt calls this exactly once per successful registration, with the
    // pointer `EventStream::watch` boxed.
    drop(unsafe { Box::from_raw(opaque.cast::<Arc<dyn StreamEvents>>()) });
    LIVE_CONTEXTS.fetch_sub(1, Ordering::SeqCst);
}
