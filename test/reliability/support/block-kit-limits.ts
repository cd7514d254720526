/**
 * Slack's documented limits for what carebot posts (chat.postMessage / chat.update), checked on
 * the calls the fake Slack received. Lengths are counted in code points, the lenient reading.
 * https://api.slack.com/reference/block-kit/blocks and …/block-elements, chat.postMessage "text".
 */
const LIMITS = {
  messageText: 40_000,
  blocks: 50,
  sectionText: 3000,
  contextElements: 10,
  textObject: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  blockId: 255,
} as const;

const len = (s: unknown) => (typeof s === 'string' ? Array.from(s).length : 0);

type Block = Record<string, unknown> & { type?: string };

/** Every limit the message breaks, as readable strings (empty when it is within all of them). */
export function blockKitViolations(params: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (len(params.text) > LIMITS.messageText)
    out.push(`message text ${len(params.text)} > ${LIMITS.messageText}`);
  const blocks = Array.isArray(params.blocks) ? (params.blocks as Block[]) : [];
  if (blocks.length > LIMITS.blocks) out.push(`${blocks.length} blocks > ${LIMITS.blocks}`);
  blocks.forEach((block, i) => {
    const where = `block ${i} (${block.type})`;
    if (len(block.block_id) > LIMITS.blockId)
      out.push(`${where}: block_id ${len(block.block_id)} > ${LIMITS.blockId}`);
    if (block.type === 'section') {
      const text = (block.text as { text?: string } | undefined)?.text;
      if (len(text) > LIMITS.sectionText)
        out.push(`${where}: section text ${len(text)} > ${LIMITS.sectionText}`);
    }
    if (block.type === 'context') {
      const elements = (block.elements as Block[] | undefined) ?? [];
      if (elements.length > LIMITS.contextElements)
        out.push(`${where}: ${elements.length} context elements > ${LIMITS.contextElements}`);
      for (const e of elements)
        if (len(e.text) > LIMITS.textObject)
          out.push(`${where}: context text ${len(e.text)} > ${LIMITS.textObject}`);
    }
    if (block.type === 'actions') {
      const elements = (block.elements as Block[] | undefined) ?? [];
      if (elements.length > LIMITS.actionsElements)
        out.push(`${where}: ${elements.length} elements > ${LIMITS.actionsElements}`);
      for (const e of elements) {
        const label = (e.text as { text?: string } | undefined)?.text;
        if (len(label) > LIMITS.buttonText)
          out.push(`${where}: button text ${len(label)} > ${LIMITS.buttonText}`);
        if (len(e.value) > LIMITS.buttonValue)
          out.push(`${where}: button value ${len(e.value)} > ${LIMITS.buttonValue}`);
        if (len(e.url) > LIMITS.buttonUrl)
          out.push(`${where}: button url ${len(e.url)} > ${LIMITS.buttonUrl}`);
      }
    }
  });
  return out;
}

/** Special mentions and links a customer must never be able to produce in Slack. */
export const FORBIDDEN_TOKENS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0EVIL01>',
  '<#C0EVIL01>',
  '<!subteam^S0EVIL01',
  '<https://evil.example',
  '<mailto:',
];
