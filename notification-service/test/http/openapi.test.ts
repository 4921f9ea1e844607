// notification-service's OpenAPI document: valid 3.1, the routes the service mounts, problems on each, and its /docs page.
import { loadConfig } from '@ridehail/shared';
import { describeServiceDocument } from '../../../test/support/openapi';
import { configSchema, definition } from '../../src/main';

describeServiceDocument(definition(loadConfig(configSchema, { LOG_LEVEL: 'error' })), ['GET /notifications', 'GET /notifications/{id}']);
