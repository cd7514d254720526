import { EventEmitter } from 'node:events';
import type { FakeSlack, SlackCall } from '../emulators/slack/web-api.js';

/**
 * What a person would see in the sandbox's Slack: the channel's messages and threads, ephemeral
 * messages, open modals and App Home tabs. It is rebuilt from the Web API calls carebot makes to the
 * emulator, plus the messages the sandbox's people type.
 */

export interface ChannelMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  reactions: string[];
  /** Set on an ephemeral message: only this user sees it. */
  ephemeralFor?: string;
  files?: Array<{ id: string; title: string }>;
}

export interface OpenView {
  userId: string;
  view: Record<string, unknown>;
}

export interface WorkspaceState {
  messages: ChannelMessage[];
  /** Each user's modal stack, innermost last. */
  views: Record<string, Array<Record<string, unknown>>>;
  homes: Record<string, Record<string, unknown>>;
}

/** Where a response_url posts to: the user who acted, and the message or thread they acted on. */
export interface HookTarget {
  userId: string;
  channel: string;
  threadTs?: string;
  messageTs?: string;
}

export class Workspace extends EventEmitter {
  readonly messages: ChannelMessage[] = [];
  private readonly views = new Map<string, Array<Record<string, unknown>>>();
  private readonly homes = new Map<string, Record<string, unknown>>();
  private readonly triggers = new Map<string, string>();
  private readonly hooks = new Map<string, HookTarget>();
  private hookCounter = 0;
  private ephemeralCounter = 0;
  private humanCounter = 0;

  constructor(private readonly slack: FakeSlack) {
    super();
    slack.onCall((call) => {
      if (call.ok && this.apply(call)) this.emit('change');
    });
  }

  /** Remembers who a trigger_id belongs to, so the modal it opens is shown to them. */
  rememberTrigger(triggerId: string, userId: string): void {
    this.triggers.set(triggerId, userId);
  }

  /** A response_url on the emulator whose posts become ephemeral messages for `target.userId`. */
  responseUrl(target: HookTarget): string {
    this.hookCounter += 1;
    const name = `sandbox-${this.hookCounter}`;
    this.hooks.set(name, target);
    return this.slack.responseUrl(name);
  }

  /** A person's message; returns the ts Slack would give it. */
  addHumanMessage(o: { channel: string; user: string; text: string; threadTs?: string }): ChannelMessage {
    this.humanCounter += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(900_000 + (this.humanCounter % 100_000)).padStart(6, '0')}`;
    const message: ChannelMessage = { channel: o.channel, ts, user: o.user, text: o.text, reactions: [] };
    if (o.threadTs) message.threadTs = o.threadTs;
    this.messages.push(message);
    this.emit('change');
    return message;
  }

  findMessage(ts: string, userId?: string): ChannelMessage | undefined {
    return this.messages.find((m) => m.ts === ts && (!m.ephemeralFor || m.ephemeralFor === userId));
  }

  /** The modal on top of the user's stack. */
  topView(userId: string, viewId?: string): Record<string, unknown> | undefined {
    const stack = this.views.get(userId) ?? [];
    return viewId ? stack.find((v) => v.id === viewId) : stack.at(-1);
  }

  closeView(userId: string, viewId: string, all = false): void {
    const stack = this.views.get(userId) ?? [];
    const at = stack.findIndex((v) => v.id === viewId);
    if (at >= 0) stack.splice(all ? 0 : at, all ? stack.length : 1);
    this.emit('change');
  }

  /** Applies a view_submission's response_action (errors stay; update/push/clear change the stack). */
  applyViewResponse(userId: string, viewId: string, answer: string): Record<string, unknown> | undefined {
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = answer.trim() ? (JSON.parse(answer) as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    const action = parsed?.response_action;
    if (action === 'errors') return parsed?.errors as Record<string, unknown>;
    const stack = this.views.get(userId) ?? [];
    if (action === 'update' && parsed?.view) {
      const at = stack.findIndex((v) => v.id === viewId);
      if (at >= 0) stack[at] = { ...(parsed.view as Record<string, unknown>), id: viewId };
    } else if (action === 'push' && parsed?.view) {
      stack.push({ ...(parsed.view as Record<string, unknown>), id: `${viewId}-pushed-${stack.length}` });
    } else if (action === 'clear') {
      stack.length = 0;
    } else {
      this.closeView(userId, viewId);
    }
    this.emit('change');
    return undefined;
  }

  state(): WorkspaceState {
    return {
      messages: this.messages,
      views: Object.fromEntries(this.views),
      homes: Object.fromEntries(this.homes),
    };
  }

  /** A ts for messages whose Web API answer carries none (response_url posts, shared files). */
  private localTs(): string {
    this.ephemeralCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(700_000 + (this.ephemeralCounter % 100_000)).padStart(6, '0')}`;
  }

  private apply(call: SlackCall): boolean {
    const p = call.params;
    const r = call.response ?? {};
    switch (call.method) {
      case 'chat.postMessage': {
        const message = r.message as Record<string, unknown>;
        this.messages.push({
          channel: String(p.channel),
          ts: String(r.ts),
          ...(typeof p.thread_ts === 'string' ? { threadTs: p.thread_ts } : {}),
          user: String(message.user),
          text: String(message.text ?? ''),
          ...blocksAndAttachments(p),
          reactions: [],
        });
        return true;
      }
      case 'chat.update': {
        const found = this.messages.find((m) => m.ts === p.ts && !m.ephemeralFor);
        if (!found) return false;
        if (typeof p.text === 'string') found.text = p.text;
        if (p.blocks !== undefined) found.blocks = p.blocks as unknown[];
        if (p.attachments !== undefined) found.attachments = p.attachments as unknown[];
        return true;
      }
      case 'chat.delete': {
        const at = this.messages.findIndex((m) => m.ts === p.ts && !m.ephemeralFor);
        if (at >= 0) this.messages.splice(at, 1);
        return at >= 0;
      }
      case 'chat.postEphemeral':
        this.messages.push({
          channel: String(p.channel),
          ts: String(r.message_ts),
          ...(typeof p.thread_ts === 'string' ? { threadTs: p.thread_ts } : {}),
          user: 'UBOT',
          text: String(p.text ?? ''),
          ...blocksAndAttachments(p),
          reactions: [],
          ephemeralFor: String(p.user),
        });
        return true;
      case 'reactions.add':
      case 'reactions.remove': {
        const found = this.messages.find((m) => m.ts === p.timestamp && !m.ephemeralFor);
        if (!found || typeof p.name !== 'string') return false;
        if (call.method === 'reactions.add') {
          if (!found.reactions.includes(p.name)) found.reactions.push(p.name);
        } else found.reactions = found.reactions.filter((n) => n !== p.name);
        return true;
      }
      case 'views.open':
      case 'views.push': {
        const userId = typeof p.trigger_id === 'string' ? this.triggers.get(p.trigger_id) : undefined;
        if (!userId) return false;
        const stack = this.views.get(userId) ?? [];
        if (call.method === 'views.open') stack.length = 0;
        stack.push(r.view as Record<string, unknown>);
        this.views.set(userId, stack);
        return true;
      }
      case 'views.update': {
        const view = r.view as Record<string, unknown>;
        for (const stack of this.views.values()) {
          const at = stack.findIndex((v) => v.id === view.id);
          if (at >= 0) {
            stack[at] = view;
            return true;
          }
        }
        return false;
      }
      case 'views.publish':
        this.homes.set(String(p.user_id), r.view as Record<string, unknown>);
        return true;
      case 'files.completeUploadExternal': {
        const files = (r.files as Array<{ id: string; title: string }>) ?? [];
        if (typeof p.channel_id !== 'string') return false;
        this.messages.push({
          channel: p.channel_id,
          ts: this.localTs(),
          ...(typeof p.thread_ts === 'string' ? { threadTs: p.thread_ts } : {}),
          user: 'UBOT',
          text: typeof p.initial_comment === 'string' ? p.initial_comment : '',
          reactions: [],
          files: files.map((f) => ({ id: f.id, title: f.title })),
        });
        return true;
      }
      case 'response_url':
        return this.applyResponse(call);
      default:
        return false;
    }
  }

  private applyResponse(call: SlackCall): boolean {
    const target = call.hook ? this.hooks.get(call.hook) : undefined;
    if (!target) return false;
    const p = call.params;
    const original = target.messageTs
      ? this.messages.find((m) => m.ts === target.messageTs && m.ephemeralFor === target.userId)
      : undefined;
    if (p.delete_original === true && original) {
      this.messages.splice(this.messages.indexOf(original), 1);
      return true;
    }
    if (p.replace_original === true && original) {
      original.text = String(p.text ?? '');
      original.blocks = (p.blocks as unknown[]) ?? [];
      return true;
    }
    const message: ChannelMessage = {
      channel: target.channel,
      ts: this.localTs(),
      user: 'UBOT',
      text: String(p.text ?? ''),
      ...blocksAndAttachments(p),
      reactions: [],
    };
    if (target.threadTs) message.threadTs = target.threadTs;
    if (p.response_type !== 'in_channel') message.ephemeralFor = target.userId;
    this.messages.push(message);
    return true;
  }
}

function blocksAndAttachments(p: Record<string, unknown>): Pick<ChannelMessage, 'blocks' | 'attachments'> {
  return {
    ...(Array.isArray(p.blocks) ? { blocks: p.blocks } : {}),
    ...(Array.isArray(p.attachments) ? { attachments: p.attachments } : {}),
  };
}
