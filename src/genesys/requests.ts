/**
 * Requests a guest sends to the Genesys guest API, in exactly the shapes of the reference (§3), with
 * builders that produce them. Every request is one JSON object per text frame with `action` and `token`.
 */

export type GenesysAction =
  | 'configureSession'
  | 'onMessage'
  | 'echo'
  | 'getJwt'
  | 'onAttachment'
  | 'getAttachment'
  | 'deleteAttachment'
  | 'closeSession'
  | 'getConfiguration';

export type CustomAttributes = Readonly<Record<string, string>>;

export interface JourneyContext {
  readonly customer: { readonly id: string; readonly idType: string };
  readonly customerSession: { readonly id: string; readonly type: string };
}

export interface ConfigureSessionRequest {
  readonly action: 'configureSession';
  readonly token: string;
  readonly deploymentId: string;
  readonly startNew?: boolean;
  readonly journeyContext?: JourneyContext;
  readonly tracingId?: string;
}

export type ButtonResponseType = 'Button' | 'DatePicker' | 'Form' | 'ListPicker' | 'QuickReply';

export type InboundContent =
  | { readonly contentType: 'Attachment'; readonly attachment: { readonly id: string } }
  | {
      readonly contentType: 'ButtonResponse';
      readonly buttonResponse: {
        readonly text: string;
        readonly payload: string;
        readonly type: ButtonResponseType;
        readonly originatingMessageId?: string;
      };
    };

export type InboundEvent =
  | { readonly eventType: 'Typing'; readonly typing: { readonly type: 'On' } }
  | { readonly eventType: 'Presence'; readonly presence: { readonly type: 'Join' | 'Clear' } };

export interface InboundMessage {
  readonly type: 'Text' | 'Structured' | 'Event';
  readonly text?: string;
  readonly content?: readonly InboundContent[];
  readonly events?: readonly InboundEvent[];
  readonly metadata?: Readonly<Record<string, string>>;
  readonly channel?: { readonly metadata: { readonly customAttributes: CustomAttributes } };
}

export interface OnMessageRequest {
  readonly action: 'onMessage';
  readonly token: string;
  readonly message: InboundMessage;
  readonly tracingId?: string;
  /** Some public clients put `channel` here instead of inside `message`; Genesys accepts both. */
  readonly channel?: { readonly metadata: { readonly customAttributes: CustomAttributes } };
}

export interface EchoRequest {
  readonly action: 'echo';
  readonly token: string;
  readonly tracingId: string;
  readonly message: { readonly type: 'Text'; readonly text: 'ping' };
}

export interface GetJwtRequest {
  readonly action: 'getJwt';
  readonly token: string;
  readonly tracingId?: string;
}

export interface OnAttachmentRequest {
  readonly action: 'onAttachment';
  readonly token: string;
  readonly attachmentId?: string;
  readonly fileName: string;
  readonly fileType: string;
  readonly fileSize: number;
  readonly fileMd5?: string;
  readonly errorsAsJson?: boolean;
  readonly tracingId?: string;
}

export interface AttachmentRequest {
  readonly action: 'getAttachment' | 'deleteAttachment';
  readonly token: string;
  readonly attachmentId: string;
  readonly tracingId?: string;
}

export interface CloseSessionRequest {
  readonly action: 'closeSession';
  readonly token: string;
  readonly closeAllConnections: boolean;
  readonly tracingId?: string;
}

export interface GetConfigurationRequest {
  readonly action: 'getConfiguration';
  readonly token: string;
  readonly deploymentId: string;
  readonly tracingId?: string;
}

export type GenesysRequest =
  | ConfigureSessionRequest
  | OnMessageRequest
  | EchoRequest
  | GetJwtRequest
  | OnAttachmentRequest
  | AttachmentRequest
  | CloseSessionRequest
  | GetConfigurationRequest;

/** The fixed tracingId Genesys' mobile SDK uses for echo: base64 of "HealthCheckMessageId". */
export const ECHO_TRACING_ID = 'SGVhbHRoQ2hlY2tNZXNzYWdlSWQ=';

/** T, where any field may also be given as undefined. */
type Loose<T> = { [K in keyof T]: T[K] | undefined };

/** Drops undefined fields, so that the wire never carries `"x": undefined` placeholders. */
function defined<T extends object>(value: Loose<T>): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function withAttributes(customAttributes: CustomAttributes | undefined) {
  return customAttributes && Object.keys(customAttributes).length > 0
    ? { channel: { metadata: { customAttributes } } }
    : {};
}

export const request = {
  configureSession(options: {
    token: string;
    deploymentId: string;
    startNew?: boolean | undefined;
    tracingId?: string | undefined;
  }): ConfigureSessionRequest {
    return defined<ConfigureSessionRequest>({
      action: 'configureSession',
      token: options.token,
      deploymentId: options.deploymentId,
      startNew: options.startNew,
      // As Genesys' own SDK does: the token identifies the customer, as a cookie would.
      journeyContext: {
        customer: { id: options.token, idType: 'cookie' },
        customerSession: { id: '', type: 'web' },
      },
      tracingId: options.tracingId,
    });
  },

  /** A guest message: text and/or one attachment and/or a button response, with custom attributes. */
  text(options: {
    token: string;
    tracingId: string;
    text?: string | undefined;
    attachmentIds?: readonly string[] | undefined;
    buttonResponse?: { text: string; payload: string; type: ButtonResponseType } | undefined;
    customAttributes?: CustomAttributes | undefined;
  }): OnMessageRequest {
    // Genesys keeps a message's `metadata` and returns it in echoes and history; carrying our id there (as
    // Genesys' own mobile SDK does with `metadata.id`) lets a resumed client tell whether a send whose
    // echo was lost already reached Genesys.
    const metadata = { id: options.tracingId };
    const content: InboundContent[] = [
      ...(options.attachmentIds ?? []).map((id) => ({
        contentType: 'Attachment' as const,
        attachment: { id },
      })),
      ...(options.buttonResponse
        ? [{ contentType: 'ButtonResponse' as const, buttonResponse: options.buttonResponse }]
        : []),
    ];
    // A card postback is Structured; quick replies and plain text are Text (reference §3.3).
    const type = options.buttonResponse?.type === 'Button' ? 'Structured' : 'Text';
    const message = defined<InboundMessage>({
      type,
      text: options.text ?? (options.buttonResponse ? options.buttonResponse.text : ''),
      content: content.length > 0 ? content : undefined,
      metadata,
      ...withAttributes(options.customAttributes),
    });
    return { action: 'onMessage', token: options.token, message, tracingId: options.tracingId };
  },

  typing(options: { token: string; tracingId?: string | undefined }): OnMessageRequest {
    return defined<OnMessageRequest>({
      action: 'onMessage',
      token: options.token,
      tracingId: options.tracingId,
      message: { type: 'Event', events: [{ eventType: 'Typing', typing: { type: 'On' } }] },
    });
  },

  /** Presence Join (autostart: starts the conversation without text) or Clear (ends and clears it). */
  presence(options: {
    token: string;
    type: 'Join' | 'Clear';
    tracingId?: string | undefined;
    customAttributes?: CustomAttributes | undefined;
  }): OnMessageRequest {
    return defined<OnMessageRequest>({
      action: 'onMessage',
      token: options.token,
      tracingId: options.tracingId,
      message: {
        type: 'Event',
        events: [{ eventType: 'Presence', presence: { type: options.type } }],
        ...withAttributes(options.customAttributes),
      },
    });
  },

  echo(options: { token: string; tracingId?: string | undefined }): EchoRequest {
    return {
      action: 'echo',
      token: options.token,
      tracingId: options.tracingId ?? ECHO_TRACING_ID,
      message: { type: 'Text', text: 'ping' },
    };
  },

  getJwt(options: { token: string; tracingId?: string | undefined }): GetJwtRequest {
    return defined<GetJwtRequest>({ action: 'getJwt', token: options.token, tracingId: options.tracingId });
  },

  onAttachment(options: {
    token: string;
    fileName: string;
    fileType: string;
    fileSize: number;
    attachmentId?: string | undefined;
    fileMd5?: string | undefined;
    tracingId?: string | undefined;
  }): OnAttachmentRequest {
    return defined<OnAttachmentRequest>({
      action: 'onAttachment',
      token: options.token,
      attachmentId: options.attachmentId,
      fileName: options.fileName,
      fileType: options.fileType,
      fileSize: options.fileSize,
      fileMd5: options.fileMd5,
      errorsAsJson: true,
      tracingId: options.tracingId,
    });
  },

  getAttachment(options: {
    token: string;
    attachmentId: string;
    tracingId?: string | undefined;
  }): AttachmentRequest {
    return defined<AttachmentRequest>({ action: 'getAttachment', ...options });
  },

  deleteAttachment(options: {
    token: string;
    attachmentId: string;
    tracingId?: string | undefined;
  }): AttachmentRequest {
    return defined<AttachmentRequest>({ action: 'deleteAttachment', ...options });
  },

  closeSession(options: { token: string; tracingId?: string | undefined }): CloseSessionRequest {
    return defined<CloseSessionRequest>({
      action: 'closeSession',
      token: options.token,
      closeAllConnections: true,
      tracingId: options.tracingId,
    });
  },

  getConfiguration(options: {
    token: string;
    deploymentId: string;
    tracingId?: string | undefined;
  }): GetConfigurationRequest {
    return defined<GetConfigurationRequest>({ action: 'getConfiguration', ...options });
  },
} as const;

export function serializeRequest(value: GenesysRequest): string {
  return JSON.stringify(value);
}
