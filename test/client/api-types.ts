// Generated from GET /api/openapi.json by openapi-typescript: UPDATE_CLIENT=1 npx vitest run test/client

export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Whether the app is up
         * @description Anonymous.
         */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This description of the API (OpenAPI 3.1)
         * @description Anonymous.
         */
        get: operations["openApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show an account
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getAccount"];
        /**
         * Create an account (you become its Owner) or update it
         * @description Any signed-in principal.
         */
        put: operations["putAccount"];
        post?: never;
        /**
         * Delete an account and everything it holds (refused while it has services)
         * @description The Owner role on the account.
         */
        delete: operations["deleteAccount"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The accounts of a resource group you have a role on
         * @description Any signed-in principal.
         */
        get: operations["listAccounts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/roleAssignments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who has which role on the account
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["listRoleAssignments"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/roleAssignments/{principalId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Give a principal a role
         * @description The Owner role on the account.
         */
        put: operations["putRoleAssignment"];
        post?: never;
        /**
         * Take a principal's role away
         * @description The Owner role on the account.
         */
        delete: operations["deleteRoleAssignment"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List models, newest first
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["listModels"];
        put?: never;
        /**
         * Register a model: the next version of its name
         * @description The Contributor role (or Owner) on the account.
         */
        post: operations["registerModel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/models/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show a model
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getModel"];
        put?: never;
        post?: never;
        /**
         * Delete a model (refused while a manifest uses it)
         * @description The Contributor role (or Owner) on the account.
         */
        delete: operations["deleteModel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/manifests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List manifests, newest first
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["listManifests"];
        put?: never;
        /**
         * Create a manifest: a driver, its assets and registered models
         * @description The Contributor role (or Owner) on the account.
         */
        post: operations["createManifest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/manifests/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show a manifest
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getManifest"];
        put?: never;
        post?: never;
        /**
         * Delete a manifest (refused while an image was made from it)
         * @description The Contributor role (or Owner) on the account.
         */
        delete: operations["deleteManifest"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List images, newest first
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["listImages"];
        put?: never;
        /**
         * Build a Docker image of a manifest
         * @description The Contributor role (or Owner) on the account.
         */
        post: operations["createImage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/images/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show an image, its manifest embedded
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getImage"];
        put?: never;
        post?: never;
        /**
         * Delete an image (refused while it builds, a rollout rolls it out or a service runs it)
         * @description The Contributor role (or Owner) on the account.
         */
        delete: operations["deleteImage"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/operations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The state of an asynchronous operation
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getOperation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/services": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List services, newest first
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["listServices"];
        put?: never;
        /**
         * Deploy an image as a real-time scoring service
         * @description The Contributor role (or Owner) on the account.
         */
        post: operations["createService"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/services/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show a service, with its image, manifest and models
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getService"];
        /**
         * Update a service (fields left out keep their value)
         * @description The Contributor role (or Owner) on the account.
         */
        put: operations["updateService"];
        post?: never;
        /**
         * Delete a service: its replicas stop
         * @description The Contributor role (or Owner) on the account.
         */
        delete: operations["deleteService"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/services/{id}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A service's scoring keys
         * @description The Contributor role (or Owner) on the account.
         */
        get: operations["getServiceKeys"];
        put?: never;
        /**
         * Replace one of a service's keys
         * @description The Contributor role (or Owner) on the account.
         */
        post: operations["regenerateServiceKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/services/{id}/regenerateKeys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replace one of a service's keys (the path the 2017 CLI called)
         * @description The Contributor role (or Owner) on the account.
         */
        post: operations["regenerateServiceKeys"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/services/{id}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The last lines each replica printed (text)
         * @description The Contributor role (or Owner) on the account.
         */
        get: operations["getServiceLogs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/deployments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The account's deployments (a plain array), newest first
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["listDeployments"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/accounts/{accountName}/deployments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show a deployment
         * @description The Reader role (or Contributor, Owner) on the account.
         */
        get: operations["getDeployment"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ErrorDetail: {
            code: string;
            message: string;
        };
        ErrorResponse: {
            /** @description stable, for programs: ModelNotFound, InvalidRequestBody, ResourceInUse, … */
            code: string;
            /** @description for people: what went wrong and what to do */
            message: string;
            /** @description one entry per bad field, or per resource in the way */
            details?: components["schemas"]["ErrorDetail"][];
            statusCode?: number;
        };
        Model: {
            id: string;
            name: string;
            /** @description per name: 1, 2, 3 … */
            version: number;
            description?: string;
            tags?: string[];
            mimeType: string;
            unpack?: boolean;
            /** @description where the content is; a SAS signature shows as sig=REDACTED */
            url: string;
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdAt: string;
        };
        Asset: {
            /** @description a relative path in the app: the driver program names one */
            id: string;
            mimeType?: string;
            unpack?: boolean;
            url: string;
        };
        TargetRuntime: {
            /** @enum {string} */
            runtimeType: "Python" | "SparkPython";
            properties: {
                [key: string]: string;
            };
        };
        Manifest: {
            id: string;
            name: string;
            version: number;
            description?: string;
            driverProgram: string;
            assets: components["schemas"]["Asset"][];
            modelIds: string[];
            /** @enum {string} */
            modelType: "Registered";
            targetRuntime: components["schemas"]["TargetRuntime"];
            /** @enum {string} */
            webserviceType: "Realtime";
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdTime: string;
        };
        Image: {
            id: string;
            name: string;
            version: number;
            description?: string;
            computeResourceId: string;
            /** @enum {string} */
            imageType: "Docker";
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdTime: string;
            /** @enum {string} */
            creationState: "NotStarted" | "Running" | "Cancelled" | "Succeeded" | "Failed";
            /** @description where the built image is: a registry reference, or oci:<layout>:<ref> */
            imageLocation?: string;
            /** @description a read-only URL of the build's log, readable while it runs */
            imageBuildLogUri?: string;
            error?: components["schemas"]["ErrorResponse"];
            manifest: components["schemas"]["Manifest"] | {
                id: string;
                name: string;
            };
        };
        AsyncOperationStatus: {
            id: string;
            /** @enum {string} */
            operationType: "Image" | "Service";
            /** @enum {string} */
            state: "NotStarted" | "Running" | "Cancelled" | "Succeeded" | "Failed";
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdTime: string;
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            endTime?: string;
            /** @description the absolute URL of the resource the operation creates or updates */
            resourceLocation: string;
            error?: components["schemas"]["ErrorResponse"];
        };
        AutoScaler: {
            autoscaleEnabled: boolean;
            minReplicas?: number;
            maxReplicas?: number;
            refreshPeriodInSeconds?: number;
            targetUtilization?: number;
        };
        ComputeResource: {
            id: string;
            /** @enum {string} */
            type: "Cluster";
        };
        ContainerResourceReservation: {
            cpu?: string;
            memory?: string;
        };
        ModelDataCollection: {
            eventHubEnabled?: boolean;
            storageEnabled?: boolean;
        };
        Batching: {
            maxBatchSize: number;
            maxWaitInMilliseconds?: number;
        };
        ServiceResponse: {
            id: string;
            name: string;
            imageId: string;
            computeResource: components["schemas"]["ComputeResource"];
            numReplicas?: number;
            autoScaler?: components["schemas"]["AutoScaler"];
            containerResourceReservation?: components["schemas"]["ContainerResourceReservation"];
            dataCollection?: components["schemas"]["ModelDataCollection"];
            appInsightsEnabled?: boolean;
            maxConcurrentRequestsPerContainer?: number;
            batching?: components["schemas"]["Batching"];
            scoringUri: string;
            /** @enum {string} */
            state: "NotStarted" | "Running" | "Cancelled" | "Succeeded" | "Failed";
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            updatedAt: string;
            error?: components["schemas"]["ErrorResponse"];
            image?: components["schemas"]["Image"];
            manifest?: components["schemas"]["Manifest"];
            models: components["schemas"]["Model"][];
        };
        Deployment: {
            id: string;
            serviceName: string;
            imageId: string;
            /** @enum {string} */
            status: "NotStarted" | "Running" | "Cancelled" | "Succeeded" | "Failed";
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            expiredAt?: string;
        };
        AuthKeys: {
            primaryKey: string;
            secondaryKey: string;
        };
        Account: {
            /** @description /subscriptions/{s}/resourceGroups/{rg}/accounts/{name} */
            id: string;
            name: string;
            subscriptionId: string;
            resourceGroupName: string;
            location: string;
            description?: string;
            tags: {
                [key: string]: string;
            };
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdAt: string;
            createdBy: string;
            /** @description where this API's OpenAPI description is (what 2017 clients read) */
            modelManagementSwaggerLocation: string;
        };
        RoleAssignment: {
            principalId: string;
            /** @enum {string} */
            role: "Reader" | "Contributor" | "Owner";
            /**
             * Format: date-time
             * @description an ISO 8601 date-time
             */
            createdAt: string;
        };
        PaginatedModelList: {
            value: components["schemas"]["Model"][];
            /** @description the next page, with your filters and api-version */
            nextLink?: string;
        };
        PaginatedManifestList: {
            value: components["schemas"]["Manifest"][];
            /** @description the next page, with your filters and api-version */
            nextLink?: string;
        };
        PaginatedImageList: {
            value: components["schemas"]["Image"][];
            /** @description the next page, with your filters and api-version */
            nextLink?: string;
        };
        PaginatedServiceList: {
            value: components["schemas"]["ServiceResponse"][];
            /** @description the next page, with your filters and api-version */
            nextLink?: string;
        };
        PaginatedAccountList: {
            value: components["schemas"]["Account"][];
            /** @description the next page, with your filters and api-version */
            nextLink?: string;
        };
        RoleAssignmentList: {
            value: components["schemas"]["RoleAssignment"][];
        };
        DeploymentList: components["schemas"]["Deployment"][];
        Health: {
            status: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    openApi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the OpenAPI document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getAccount: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the account */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    putAccount: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    location?: string;
                    description?: string;
                    tags?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description AccountExists or AccountBeingDeleted */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteAccount: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted (its storage may still be being released) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description AccountHasServices */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listAccounts: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                count?: string;
                $skipToken?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of accounts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaginatedAccountList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listRoleAssignments: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the role assignments */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleAssignmentList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    putRoleAssignment: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                principalId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    role: "Reader" | "Contributor" | "Owner";
                };
            };
        };
        responses: {
            /** @description changed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleAssignment"];
                };
            };
            /** @description given */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleAssignment"];
                };
            };
            /** @description LastOwner */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteRoleAssignment: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                principalId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description removed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description it had none */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description LastOwner */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listModels: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                name?: string;
                tag?: string;
                count?: string;
                $skipToken?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of models */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaginatedModelList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    registerModel: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string & (unknown & unknown);
                    description?: string | null;
                    tags?: (string & (unknown & unknown))[];
                    mimeType: string & (unknown & unknown);
                    unpack?: boolean;
                    url: string;
                };
            };
        };
        responses: {
            /** @description registered */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getModel: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the model */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteModel: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description there was none */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description ResourceInUse: manifests use it */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listManifests: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                modelId?: string;
                manifestName?: string;
                count?: string;
                $skipToken?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of manifests */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaginatedManifestList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createManifest: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string & (unknown & unknown);
                    description?: string | null;
                    driverProgram: string & (unknown & unknown);
                    assets: {
                        id: string & (unknown & unknown);
                        mimeType?: string;
                        unpack?: boolean;
                        url: string;
                    }[];
                    modelIds?: string[];
                    /** @enum {string} */
                    modelType?: "Registered";
                    targetRuntime: {
                        /** @enum {string} */
                        runtimeType: "Python" | "SparkPython";
                        properties: {
                            [key: string]: string;
                        };
                    };
                    /** @enum {string} */
                    webserviceType?: "Realtime";
                };
            };
        };
        responses: {
            /** @description created */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Manifest"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getManifest: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the manifest */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Manifest"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteManifest: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description there was none */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description ResourceInUse: images were made from it */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listImages: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                manifestId?: string;
                manifestName?: string;
                count?: string;
                $skipToken?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of images */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaginatedImageList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createImage: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    description?: string | null;
                    computeResourceId: string & (unknown & unknown);
                    /** @enum {string} */
                    imageType: "Docker";
                    manifestId: string;
                };
            };
        };
        responses: {
            /** @description the build is accepted: follow the operation at Operation-Location (GET it until its state is Succeeded or Failed) */
            202: {
                headers: {
                    /** @description the absolute URL of the operation (AsyncOperationStatus) */
                    "operation-location": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getImage: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the image */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Image"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteImage: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description there was none */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description ResourceInUse: services, rollouts or its own build use it */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getOperation: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the operation */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AsyncOperationStatus"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listServices: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                serviceName?: string;
                modelId?: string;
                modelName?: string;
                manifestId?: string;
                manifestName?: string;
                imageId?: string;
                computeResourceId?: string;
                count?: string;
                $skipToken?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of services */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaginatedServiceList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createService: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    description?: string & (unknown & unknown);
                    computeResource: {
                        id: string & (unknown & unknown);
                        /** @enum {string} */
                        type?: "Cluster";
                    };
                    imageId: string;
                    numReplicas?: number;
                    autoScaler?: {
                        autoscaleEnabled: boolean;
                        minReplicas?: number;
                        maxReplicas?: number;
                        refreshPeriodInSeconds?: number;
                        targetUtilization?: number;
                    };
                    containerResourceReservation?: {
                        cpu?: number | string;
                        memory?: string;
                    };
                    dataCollection?: {
                        eventHubEnabled?: boolean;
                        storageEnabled?: boolean;
                    };
                    appInsightsEnabled?: boolean;
                    maxConcurrentRequestsPerContainer?: number;
                    batching?: {
                        maxBatchSize: number;
                        maxWaitInMilliseconds?: number;
                    };
                };
            };
        };
        responses: {
            /** @description the deployment is accepted: follow the operation at Operation-Location (GET it until its state is Succeeded or Failed) */
            202: {
                headers: {
                    /** @description the absolute URL of the operation (AsyncOperationStatus) */
                    "operation-location": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description ServiceNameConflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getService: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the service */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ServiceResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    updateService: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    imageId?: string;
                    numReplicas?: number;
                    autoScaler?: {
                        autoscaleEnabled: boolean;
                        minReplicas?: number;
                        maxReplicas?: number;
                        refreshPeriodInSeconds?: number;
                        targetUtilization?: number;
                    };
                    containerResourceReservation?: {
                        cpu?: number | string;
                        memory?: string;
                    };
                    dataCollection?: {
                        eventHubEnabled?: boolean;
                        storageEnabled?: boolean;
                    };
                    appInsightsEnabled?: boolean;
                    maxConcurrentRequestsPerContainer?: number;
                    batching?: {
                        maxBatchSize: number;
                        maxWaitInMilliseconds?: number;
                    };
                };
            };
        };
        responses: {
            /** @description the update is accepted: follow the operation at Operation-Location (GET it until its state is Succeeded or Failed) */
            202: {
                headers: {
                    /** @description the absolute URL of the operation (AsyncOperationStatus) */
                    "operation-location": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description ServiceBusy: a rollout is under way */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteService: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description there was none */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getServiceKeys: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthKeys"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    regenerateServiceKey: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    keyType: "Primary" | "Secondary";
                };
            };
        };
        responses: {
            /** @description both keys, the named one new */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthKeys"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    regenerateServiceKeys: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    keyType: "Primary" | "Secondary";
                };
            };
        };
        responses: {
            /** @description both keys, the named one new */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthKeys"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getServiceLogs: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                tail?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description text/plain: each replica's last lines */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listDeployments: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
                serviceId?: string;
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the deployments */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeploymentList"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getDeployment: {
        parameters: {
            query: {
                "api-version": "2017-09-01-preview";
            };
            header?: never;
            path: {
                subscriptionId: string;
                resourceGroupName: string;
                accountName: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the deployment */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Deployment"];
                };
            };
            /** @description an error: 400 (bad input, every bad field in details), 401, 403, 404, 413, 429, 500, 503 (with Retry-After) */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
}
