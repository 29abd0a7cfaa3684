/**
 * nf_tables netlink messages for fail2zig's table, written the way `nft --debug=netlink` shows
 * `nft -f` writing them (constants from linux/netfilter/nf_tables.h and nfnetlink.h). Stages of a
 * transaction, in order: batch begin → table → chain → sets → rules → elements → batch end.
 * @module
 */
import { findAttr, MessageWriter, NLM_F, parseAttrs, readStr, readU32be } from "../ffi/mod.ts";

/** NFPROTO_* families used in `nfgenmsg`. */
export const NFPROTO = { UNSPEC: 0, INET: 1, IPV4: 2, IPV6: 10 } as const;

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;

/** nf_tables message types (NFT_MSG_*); DESTROY* exist since Linux 6.3. */
export const NFT_MSG = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  GETSET: 10,
  DELSET: 11,
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
  NEWGEN: 15,
  GETGEN: 16,
  DESTROYTABLE: 26,
  DESTROYSETELEM: 30,
} as const;

/** The netlink message type of an nf_tables message. */
export function nftType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

const TABLE = { NAME: 1, FLAGS: 2 } as const;
const CHAIN = { TABLE: 1, NAME: 3, HOOK: 4, POLICY: 5, TYPE: 7 } as const;
const HOOK = { HOOKNUM: 1, PRIORITY: 2 } as const;
const SET = { TABLE: 1, NAME: 2, FLAGS: 3, KEY_TYPE: 4, KEY_LEN: 5, ID: 10, USERDATA: 13 } as const;
/** NFT_SET_* flags. */
export const SET_FLAG = { INTERVAL: 0x4, TIMEOUT: 0x10 } as const;
const RULE = { TABLE: 1, CHAIN: 2, EXPRESSIONS: 4 } as const;
const LIST_ELEM = 1;
const EXPR = { NAME: 1, DATA: 2 } as const;
const DATA = { VALUE: 1, VERDICT: 2 } as const;
const VERDICT_CODE = 1;
/** Set element attributes (NFTA_SET_ELEM_*). */
export const ELEM = { KEY: 1, FLAGS: 3, TIMEOUT: 4, EXPIRATION: 5, USERDATA: 6 } as const;
/** NFT_SET_ELEM_INTERVAL_END. */
export const ELEM_INTERVAL_END = 0x1;
/** Element list attributes (NFTA_SET_ELEM_LIST_*). */
export const ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;
/** libnftnl user-data type of an element comment (NFTNL_UDATA_SET_ELEM_COMMENT). */
export const UDATA_ELEM_COMMENT = 0;
const UDATA_SET_KEYBYTEORDER = 0;
const BYTEORDER_BIG_ENDIAN = 2;
/** nft datatype ids for set keys. */
const TYPE_IPV4_ADDR = 7;
const TYPE_IPV6_ADDR = 8;
const NF_INET_LOCAL_IN = 1;
const NF_ACCEPT = 1;
const NF_DROP = 0;
const NFT_META_NFPROTO = 15;
const NFT_META_L4PROTO = 16;
const NFT_PAYLOAD_NETWORK_HEADER = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER = 2;
const NFT_RANGE_EQ = 0;
const NFT_REG_VERDICT = 0;
const NFT_REG_1 = 1;
const NFT_CMP_EQ = 0;

/** Names of what the backend installs. */
export interface Layout {
  /** The table (family inet). */
  readonly table: string;
  /** The input chain. */
  readonly chain: string;
  /** The IPv4 set (`banned_ipv4`). */
  readonly set4: string;
  /** The IPv6 set (`banned_ipv6`). */
  readonly set6: string;
  /** banned_ipv6 carries `flags interval` (IPv6 prefixes shorter than 128). */
  readonly ipv6Interval: boolean;
  /** Hook priority of the chain. */
  readonly priority: number;
}

/** One element to add or delete. */
export interface ElemSpec {
  readonly key: Uint8Array;
  /** Interval sets: the first address after the block, null when the block ends the space. */
  readonly end: Uint8Array | null;
  /** Milliseconds; null = permanent (no timeout attribute). */
  readonly timeoutMs: number | null;
  /** Stored as the element comment (jail name). */
  readonly comment: string;
}

/** A batch under construction; every content message carries NLM_F_ACK and its own seq. */
export class Batch {
  readonly w = new MessageWriter();
  /** seq → label used in errors. */
  readonly expected = new Map<number, string>();
  #nextSeq: () => number;

  /** seq of BATCH_BEGIN: answered only when the kernel refuses the whole batch. */
  readonly optional = new Map<number, string>();

  constructor(nextSeq: () => number) {
    this.#nextSeq = nextSeq;
    const seq = nextSeq();
    this.optional.set(seq, "the whole batch (BATCH_BEGIN)");
    this.w.beginMessage(NFNL_MSG_BATCH_BEGIN, NLM_F.REQUEST, seq);
    this.w.nfgenmsg(NFPROTO.UNSPEC, NFNL_SUBSYS_NFTABLES);
    this.w.endMessage();
  }

  /** Starts a content message with `NLM_F_REQUEST | NLM_F_ACK | extra`. */
  begin(msg: number, extraFlags: number, family: number, label: string): void {
    const seq = this.#nextSeq();
    this.expected.set(seq, label);
    this.w.beginMessage(nftType(msg), NLM_F.REQUEST | NLM_F.ACK | extraFlags, seq);
    this.w.nfgenmsg(family);
  }

  /** Number of content messages. */
  get size(): number {
    return this.expected.size;
  }

  /** Closes the batch and returns its bytes. */
  finish(): Uint8Array {
    this.w.beginMessage(NFNL_MSG_BATCH_END, NLM_F.REQUEST, this.#nextSeq());
    this.w.nfgenmsg(NFPROTO.UNSPEC, NFNL_SUBSYS_NFTABLES);
    this.w.endMessage();
    return this.w.bytes();
  }
}

/** `add table inet NAME`. */
export function addTable(b: Batch, l: Layout): void {
  b.begin(NFT_MSG.NEWTABLE, NLM_F.CREATE, NFPROTO.INET, `NEWTABLE ${l.table}`);
  b.w.str(TABLE.NAME, l.table);
  b.w.u32be(TABLE.FLAGS, 0);
  b.w.endMessage();
}

/** `delete table inet NAME` (DESTROYTABLE when `destroy`: no error if it is absent). */
export function deleteTable(b: Batch, l: Layout, destroy: boolean): void {
  const msg = destroy ? NFT_MSG.DESTROYTABLE : NFT_MSG.DELTABLE;
  b.begin(msg, 0, NFPROTO.INET, `${destroy ? "DESTROYTABLE" : "DELTABLE"} ${l.table}`);
  b.w.str(TABLE.NAME, l.table);
  b.w.endMessage();
}

/** `add chain inet T input { type filter hook input priority P; policy accept; }`. */
export function addChain(b: Batch, l: Layout): void {
  b.begin(NFT_MSG.NEWCHAIN, NLM_F.CREATE, NFPROTO.INET, `NEWCHAIN ${l.chain}`);
  b.w.str(CHAIN.TABLE, l.table);
  b.w.str(CHAIN.NAME, l.chain);
  b.w.str(CHAIN.TYPE, "filter");
  b.w.u32be(CHAIN.POLICY, NF_ACCEPT);
  b.w.nest(CHAIN.HOOK, () => {
    b.w.u32be(HOOK.HOOKNUM, NF_INET_LOCAL_IN);
    b.w.u32be(HOOK.PRIORITY, l.priority);
  });
  b.w.endMessage();
}

/** `flush chain inet T input` (DELRULE naming only table and chain). */
export function flushChain(b: Batch, l: Layout): void {
  b.begin(NFT_MSG.DELRULE, 0, NFPROTO.INET, `DELRULE ${l.chain} (flush)`);
  b.w.str(RULE.TABLE, l.table);
  b.w.str(RULE.CHAIN, l.chain);
  b.w.endMessage();
}

/** `add set inet T NAME { type ipvX_addr; flags [interval,]timeout; }`. */
export function addSet(
  b: Batch,
  l: Layout,
  set: { name: string; family: 4 | 6; interval: boolean; id: number },
): void {
  const { name, family, interval, id } = set;
  b.begin(NFT_MSG.NEWSET, NLM_F.CREATE, NFPROTO.INET, `NEWSET ${name}`);
  b.w.str(SET.TABLE, l.table);
  b.w.str(SET.NAME, name);
  b.w.u32be(SET.FLAGS, SET_FLAG.TIMEOUT | (interval ? SET_FLAG.INTERVAL : 0));
  b.w.u32be(SET.KEY_TYPE, family === 4 ? TYPE_IPV4_ADDR : TYPE_IPV6_ADDR);
  b.w.u32be(SET.KEY_LEN, family === 4 ? 4 : 16);
  b.w.u32be(SET.ID, id);
  // nft's user data: key byte order = big endian (what `nft list` uses to print the keys).
  b.w.attr(SET.USERDATA, Uint8Array.of(UDATA_SET_KEYBYTEORDER, 4, BYTEORDER_BIG_ENDIAN, 0, 0, 0));
  b.w.endMessage();
}

/** `delete set inet T NAME` (with its elements; its rules must be gone first). */
export function deleteSet(b: Batch, l: Layout, name: string): void {
  b.begin(NFT_MSG.DELSET, 0, NFPROTO.INET, `DELSET ${name}`);
  b.w.str(SET.TABLE, l.table);
  b.w.str(SET.NAME, name);
  b.w.endMessage();
}

function expr(w: MessageWriter, name: string, body: () => void): void {
  w.nest(LIST_ELEM, () => {
    w.str(EXPR.NAME, name);
    w.nest(EXPR.DATA, body);
  });
}

/** What a scoped drop rule matches besides the source: a transport protocol and a port range. */
export interface PortMatch {
  /** IPPROTO_TCP (6) or IPPROTO_UDP (17). */
  readonly l4proto: number;
  /** Inclusive destination port range; null: every port. */
  readonly ports: readonly [number, number] | null;
}

function be16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

/**
 * `add rule inet T input [meta l4proto P [th dport N|A-B]] ip[6] saddr @SET drop`: the protocol
 * and port matches come before the lookup, as `nft` orders them.
 */
export function addDropRule(
  b: Batch,
  l: Layout,
  rule: { family: 4 | 6; set: string; setId: number; match: PortMatch | null },
): void {
  const { family, set, setId, match } = rule;
  const w = b.w;
  const cmp = (op: number, value: Uint8Array) =>
    expr(w, "cmp", () => {
      w.u32be(1, /* NFTA_CMP_SREG */ NFT_REG_1);
      w.u32be(2, /* NFTA_CMP_OP */ op);
      w.nest(3, /* NFTA_CMP_DATA */ () => w.attr(DATA.VALUE, value));
    });
  b.begin(NFT_MSG.NEWRULE, NLM_F.CREATE | NLM_F.APPEND, NFPROTO.INET, `NEWRULE @${set}`);
  w.str(RULE.TABLE, l.table);
  w.str(RULE.CHAIN, l.chain);
  w.nest(RULE.EXPRESSIONS, () => {
    expr(w, "meta", () => {
      w.u32be(2, /* NFTA_META_KEY */ NFT_META_NFPROTO);
      w.u32be(1, /* NFTA_META_DREG */ NFT_REG_1);
    });
    cmp(NFT_CMP_EQ, Uint8Array.of(family === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6));
    if (match !== null) {
      expr(w, "meta", () => {
        w.u32be(2, /* NFTA_META_KEY */ NFT_META_L4PROTO);
        w.u32be(1, /* NFTA_META_DREG */ NFT_REG_1);
      });
      cmp(NFT_CMP_EQ, Uint8Array.of(match.l4proto));
      if (match.ports !== null) {
        const [from, to] = match.ports;
        expr(w, "payload", () => {
          w.u32be(1, /* NFTA_PAYLOAD_DREG */ NFT_REG_1);
          w.u32be(2, /* NFTA_PAYLOAD_BASE */ NFT_PAYLOAD_TRANSPORT_HEADER);
          w.u32be(3, /* NFTA_PAYLOAD_OFFSET */ 2);
          w.u32be(4, /* NFTA_PAYLOAD_LEN */ 2);
        });
        if (from === to) cmp(NFT_CMP_EQ, be16(from));
        else {
          expr(w, "range", () => {
            w.u32be(1, /* NFTA_RANGE_SREG */ NFT_REG_1);
            w.u32be(2, /* NFTA_RANGE_OP */ NFT_RANGE_EQ);
            w.nest(3, /* NFTA_RANGE_FROM_DATA */ () => w.attr(DATA.VALUE, be16(from)));
            w.nest(4, /* NFTA_RANGE_TO_DATA */ () => w.attr(DATA.VALUE, be16(to)));
          });
        }
      }
    }
    expr(w, "payload", () => {
      w.u32be(1, /* NFTA_PAYLOAD_DREG */ NFT_REG_1);
      w.u32be(2, /* NFTA_PAYLOAD_BASE */ NFT_PAYLOAD_NETWORK_HEADER);
      w.u32be(3, /* NFTA_PAYLOAD_OFFSET */ family === 4 ? 12 : 8);
      w.u32be(4, /* NFTA_PAYLOAD_LEN */ family === 4 ? 4 : 16);
    });
    expr(w, "lookup", () => {
      w.u32be(2, /* NFTA_LOOKUP_SREG */ NFT_REG_1);
      w.str(1, /* NFTA_LOOKUP_SET */ set);
      w.u32be(4, /* NFTA_LOOKUP_SET_ID */ setId);
    });
    expr(w, "immediate", () => {
      w.u32be(1, /* NFTA_IMMEDIATE_DREG */ NFT_REG_VERDICT);
      w.nest(2, /* NFTA_IMMEDIATE_DATA */ () => {
        w.nest(DATA.VERDICT, () => w.u32be(VERDICT_CODE, NF_DROP));
      });
    });
  });
  w.endMessage();
}

/** Bytes one element takes in a message, a bound used to split long lists. */
export const ELEM_MAX_BYTES = 120;

function elemComment(comment: string): Uint8Array {
  const text = new TextEncoder().encode(comment);
  const out = new Uint8Array(2 + text.length + 1);
  out[0] = UDATA_ELEM_COMMENT;
  out[1] = text.length + 1;
  out.set(text, 2);
  return out;
}

/**
 * NEWSETELEM / DELSETELEM / DESTROYSETELEM for `elems` in one set. Interval sets get a start
 * element (with timeout and comment) and an INTERVAL_END element per block, as nft writes them.
 */
export function setElems(
  b: Batch,
  l: Layout,
  op: "add" | "delete" | "destroy",
  set: { name: string; interval: boolean },
  elems: readonly ElemSpec[],
): void {
  const interval = set.interval;
  const msg = op === "add"
    ? NFT_MSG.NEWSETELEM
    : op === "delete"
    ? NFT_MSG.DELSETELEM
    : NFT_MSG.DESTROYSETELEM;
  const label = `${
    op === "add" ? "NEWSETELEM" : op === "delete" ? "DELSETELEM" : "DESTROYSETELEM"
  } ${set.name}`;
  const w = b.w;
  b.begin(
    msg,
    op === "add" ? NLM_F.CREATE : 0,
    NFPROTO.INET,
    `${label} (${elems.length} elements)`,
  );
  w.str(ELEM_LIST.TABLE, l.table);
  w.str(ELEM_LIST.SET, set.name);
  w.nest(ELEM_LIST.ELEMENTS, () => {
    for (const e of elems) {
      w.nest(LIST_ELEM, () => {
        w.nest(ELEM.KEY, () => w.attr(DATA.VALUE, e.key));
        if (op === "add") {
          if (e.timeoutMs !== null) {
            w.u64be(ELEM.TIMEOUT, BigInt(Math.max(1, Math.ceil(e.timeoutMs))));
          }
          if (e.comment !== "") w.attr(ELEM.USERDATA, elemComment(e.comment));
        }
      });
      if (interval && e.end !== null) {
        const end = e.end;
        w.nest(LIST_ELEM, () => {
          w.u32be(ELEM.FLAGS, ELEM_INTERVAL_END);
          w.nest(ELEM.KEY, () => w.attr(DATA.VALUE, end));
        });
      }
    }
  });
  w.endMessage();
}

/** A GETGEN request (answered by NEWGEN carrying the ruleset generation, then an ACK). */
export function getGenRequest(seq: number): Uint8Array {
  const w = new MessageWriter();
  w.beginMessage(nftType(NFT_MSG.GETGEN), NLM_F.REQUEST | NLM_F.ACK, seq);
  w.nfgenmsg(NFPROTO.UNSPEC);
  w.endMessage();
  return w.bytes();
}

/** The generation id of a NEWGEN answer, or null when it carries none. */
export function parseGen(payload: Uint8Array): number | null {
  const id = findAttr(parseAttrs(payload, 4), 1 /* NFTA_GEN_ID */);
  return id && id.length >= 4 ? readU32be(id) : null;
}

/** The generation after `gen`: the kernel counts commits in a u32 that skips 0. */
export function nextGen(gen: number): number {
  return gen === 0xffff_ffff ? 1 : gen + 1;
}

/** A GETRULE dump request for the rules of `l.chain` (the kernel filters by table and chain). */
export function getRulesDump(l: Layout, seq: number): Uint8Array {
  const w = new MessageWriter();
  w.beginMessage(nftType(NFT_MSG.GETRULE), NLM_F.REQUEST | NLM_F.DUMP | NLM_F.ACK, seq);
  w.nfgenmsg(NFPROTO.INET);
  w.str(RULE.TABLE, l.table);
  w.str(RULE.CHAIN, l.chain);
  w.endMessage();
  return w.bytes();
}

/** What a dumped rule does, as far as the layout check needs. */
export interface RuleSummary {
  readonly table: string;
  readonly chain: string;
  /** Set of its `lookup` expression ("" when it has none). */
  readonly set: string;
  /**
   * Its expressions in order with what each matches, e.g. `meta 15|cmp 0 02|…|lookup
   * banned_ipv4 0|immediate 0`: equal for two rules that match the same traffic the same way
   * (registers and the set id a request carries are left out; the kernel's dump has no set id).
   */
  readonly shape: string;
}

function hex(d: Uint8Array | undefined): string {
  return d === undefined ? "-" : [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A `NFTA_*_DATA` nest's value (or verdict code), as hex. */
function dataValue(nest: Uint8Array | undefined): string {
  if (nest === undefined) return "-";
  const a = parseAttrs(nest);
  const verdict = findAttr(a, DATA.VERDICT);
  if (verdict !== undefined) return `v${hex(findAttr(parseAttrs(verdict), VERDICT_CODE))}`;
  return hex(findAttr(a, DATA.VALUE));
}

/** What one expression matches or does (see `RuleSummary.shape`). */
function exprShape(kind: string, data: Uint8Array): string {
  const a = parseAttrs(data);
  const u32 = (t: number) => {
    const v = findAttr(a, t);
    return v !== undefined && v.length >= 4 ? String(readU32be(v)) : "0";
  };
  switch (kind) {
    case "meta":
      return `meta ${u32(2)}`;
    case "cmp":
      return `cmp ${u32(2)} ${dataValue(findAttr(a, 3))}`;
    case "payload":
      return `payload ${u32(2)} ${u32(3)} ${u32(4)}`;
    case "range":
      return `range ${u32(2)} ${dataValue(findAttr(a, 3))} ${dataValue(findAttr(a, 4))}`;
    case "lookup": {
      const set = findAttr(a, 1);
      return `lookup ${set === undefined ? "" : readStr(set)} ${u32(5 /* NFTA_LOOKUP_FLAGS */)}`;
    }
    case "immediate":
      return `immediate ${dataValue(findAttr(a, 2))}`;
    default:
      return `${kind} ${hex(data)}`;
  }
}

/** Summarises one NEWRULE message of a GETRULE dump (`payload` starts with the nfgenmsg). */
export function parseRule(payload: Uint8Array): RuleSummary {
  const a = parseAttrs(payload, 4);
  const table = findAttr(a, RULE.TABLE);
  const chain = findAttr(a, RULE.CHAIN);
  const exprs = findAttr(a, RULE.EXPRESSIONS);
  let set = "";
  const shape: string[] = [];
  for (const item of exprs ? parseAttrs(exprs) : []) {
    const e = parseAttrs(item.data);
    const name = findAttr(e, EXPR.NAME);
    const data = findAttr(e, EXPR.DATA);
    if (!name) continue;
    const kind = readStr(name);
    shape.push(exprShape(kind, data ?? new Uint8Array(0)));
    if (kind === "lookup" && data) {
      const s = findAttr(parseAttrs(data), 1 /* NFTA_LOOKUP_SET */);
      if (s) set = readStr(s);
    }
  }
  return {
    table: table ? readStr(table) : "",
    chain: chain ? readStr(chain) : "",
    set,
    shape: shape.join("|"),
  };
}
