//! A minimal authoritative DNS server on `127.0.0.1` (UDP) for the server-lookup tests:
//! it answers SRV and A queries from a fixed zone and NXDOMAIN for anything else, so
//! the resolver's queries never leave the machine. Messages are parsed and built with
//! hickory-proto, the resolver's own wire format.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The zone: records by lower-case absolute name and type.
type Zone = HashMap<(String, RecordType), Vec<RData>>;

/// A DNS server answering from a zone, stopped on drop.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    queries: Arc<Mutex<Vec<String>>>,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Starts an empty server on a free UDP port of `127.0.0.1`.
    pub fn start() -> io::Result<DnsServer> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = socket.local_addr()?;
        let zone = Arc::new(Mutex::new(Zone::new()));
        let queries = Arc::new(Mutex::new(Vec::new()));
        let answered = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (zone, queries, answered, stop) = (
                zone.clone(),
                queries.clone(),
                answered.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || serve(&socket, &zone, &queries, &answered, &stop))
        };
        Ok(DnsServer {
            addr,
            zone,
            queries,
            answered,
            stop,
            thread: Some(thread),
        })
    }

    /// Where it listens (UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds an SRV record to `name` (e.g. `_xmpp-client._tcp.example.test`).
    pub fn srv(&self, name: &str, priority: u16, weight: u16, port: u16, target: &str) {
        let target = Name::from_ascii(absolute(target)).expect("a valid target name");
        self.add(
            name,
            RecordType::SRV,
            RData::SRV(SRV::new(priority, weight, port, target)),
        );
    }

    /// Adds an A record.
    pub fn a(&self, name: &str, ip: Ipv4Addr) {
        self.add(name, RecordType::A, RData::A(A(ip)));
    }

    fn add(&self, name: &str, kind: RecordType, data: RData) {
        let mut zone = self.zone.lock().expect("zone");
        zone.entry((absolute(name).to_ascii_lowercase(), kind))
            .or_default()
            .push(data);
    }

    /// The questions asked so far, as `name TYPE`.
    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().expect("queries").clone()
    }

    /// How many queries were answered.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

fn serve(
    socket: &UdpSocket,
    zone: &Mutex<Zone>,
    queries: &Mutex<Vec<String>>,
    answered: &AtomicUsize,
    stop: &AtomicBool,
) {
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(request) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        let mut response = Message::new();
        response
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .set_op_code(request.op_code())
            .set_authoritative(true)
            .set_recursion_desired(request.recursion_desired())
            .set_recursion_available(true);
        let mut found_name = false;
        for query in request.queries() {
            response.add_query(query.clone());
            let name = query.name().to_ascii().to_ascii_lowercase();
            queries
                .lock()
                .expect("queries")
                .push(format!("{name} {}", query.query_type()));
            let zone = zone.lock().expect("zone");
            found_name |= zone.keys().any(|(n, _)| *n == name);
            if let Some(data) = zone.get(&(name, query.query_type())) {
                for rdata in data {
                    response.add_answer(Record::from_rdata(
                        query.name().clone(),
                        60,
                        rdata.clone(),
                    ));
                }
            }
        }
        if !found_name {
            response.set_response_code(ResponseCode::NXDomain);
        }
        if let Ok(bytes) = response.to_vec() {
            if socket.send_to(&bytes, peer).is_ok() {
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
